"""The WebhookEvents publisher and one delivery attempt, against in-memory fakes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from kalamna.application.webhooks import DeliverWebhook, PublishInOwnTransaction, PublishWebhookEvent
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.webhooks import (
    AttemptResult,
    Delivery,
    DeliveryStatus,
    RetrySchedule,
    Webhook,
    WebhookEvent,
)

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


@dataclass
class Repo:
    hooks: list[Webhook] = field(default_factory=list)
    deliveries: dict[UUID, Delivery] = field(default_factory=dict)
    broken: bool = False

    async def subscribed(self, organization_id: UUID, event: WebhookEvent) -> list[Webhook]:
        if self.broken:
            raise ConnectionError("database down")
        return [
            h for h in self.hooks if h.organization_id == organization_id and event in h.events and h.active
        ]

    async def add_delivery(self, delivery: Delivery) -> None:
        self.deliveries[delivery.id] = delivery

    async def get_delivery(self, delivery_id: UUID) -> Delivery | None:
        return self.deliveries.get(delivery_id)

    async def save_delivery(self, delivery: Delivery) -> None:
        self.deliveries[delivery.id] = delivery

    async def get(self, organization_id: UUID, webhook_id: UUID) -> Webhook | None:
        return next(
            (h for h in self.hooks if h.id == webhook_id and h.organization_id == organization_id), None
        )

    async def list_page(self, organization_id: UUID, page: PageRequest) -> Page[Webhook]:
        raise NotImplementedError


@dataclass
class Uow:
    log: list[str] = field(default_factory=list)

    async def commit(self) -> None:
        self.log.append("commit")

    async def rollback(self) -> None:
        self.log.append("rollback")


@dataclass
class Scheduler:
    calls: list[tuple[UUID, int, float]] = field(default_factory=list)
    uow: Uow | None = None

    async def schedule(self, delivery_id: UUID, attempt: int, delay_s: float) -> None:
        assert self.uow is None or self.uow.log[-1] == "commit", "job queued before the rows were committed"
        self.calls.append((delivery_id, attempt, delay_s))


class Box:
    def seal(self, plaintext: str, context: str) -> str:
        return f"sealed:{context}:{plaintext}"

    def open(self, sealed: str, context: str) -> str:
        prefix = f"sealed:{context}:"
        if not sealed.startswith(prefix):
            raise ValueError("wrong key")
        return sealed.removeprefix(prefix)


@dataclass
class Sender:
    results: list[AttemptResult]
    sent: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    async def post(self, url: str, body: bytes, headers: Any) -> AttemptResult:
        self.sent.append((url, body, dict(headers)))
        return self.results.pop(0)


def hook(org: UUID, events: tuple[WebhookEvent, ...], active: bool = True) -> Webhook:
    hook_id = uuid4()
    return Webhook(
        hook_id, org, "https://example.com/h", events, None, active, f"sealed:{hook_id}:whsec_x", NOW
    )


async def test_publish_makes_one_delivery_per_subscribed_active_webhook() -> None:
    org = uuid4()
    wanted = hook(org, (WebhookEvent.FEEDBACK_CREATED,))
    repo = Repo(
        [
            wanted,
            hook(org, (WebhookEvent.KNOWLEDGE_ENTRY_READY,)),
            hook(org, (WebhookEvent.FEEDBACK_CREATED,), False),
        ]
    )
    uow = Uow()
    scheduler = Scheduler(uow=uow)
    publisher = PublishWebhookEvent(repo, scheduler, uow, Clock())  # type: ignore[arg-type]
    await publisher.publish(org, WebhookEvent.FEEDBACK_CREATED, {"rating": 5, "session_id": uuid4()})
    (delivery,) = repo.deliveries.values()
    assert delivery.webhook_id == wanted.id and delivery.status is DeliveryStatus.PENDING
    payload = json.loads(delivery.body)
    assert payload["type"] == "feedback.created" and payload["created_at"] == "2026-11-30T01:00:00Z"
    assert payload["organization_id"] == str(org) and payload["data"]["rating"] == 5
    assert scheduler.calls == [(delivery.id, 1, 0)]


async def test_publish_without_subscribers_ends_its_read_transaction() -> None:
    """A chat request publishes before it streams its reply: it must not keep a pooled connection."""
    org = uuid4()
    uow = Uow()
    repo = Repo([hook(org, (WebhookEvent.KNOWLEDGE_ENTRY_READY,))])
    publisher = PublishWebhookEvent(repo, Scheduler(uow=uow), uow, Clock())  # type: ignore[arg-type]
    await publisher.publish(org, WebhookEvent.MESSAGE_CREATED, {"conversation_id": str(uuid4())})
    assert repo.deliveries == {}
    assert uow.log == ["rollback"]


async def test_publish_never_raises() -> None:
    uow = Uow()
    publisher = PublishWebhookEvent(Repo(broken=True), Scheduler(), uow, Clock())  # type: ignore[arg-type]
    await publisher.publish(uuid4(), WebhookEvent.PING, {})
    assert uow.log == ["rollback"]


@dataclass
class Tx:
    webhooks: Repo
    uow: Uow


@dataclass
class Transactions:
    repo: Repo
    opened: list[Tx] = field(default_factory=list)
    fails: bool = False

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Tx]:
        if self.fails:
            raise ConnectionError("no database connection")
        tx = Tx(self.repo, Uow())
        self.opened.append(tx)
        yield tx


async def test_publish_in_own_transaction_commits_its_own_unit_of_work() -> None:
    org = uuid4()
    wanted = hook(org, (WebhookEvent.MESSAGE_CREATED,))
    transactions = Transactions(Repo([wanted]))
    scheduler = Scheduler()
    publisher = PublishInOwnTransaction(transactions, scheduler, Clock())  # type: ignore[arg-type]
    await publisher.publish(org, WebhookEvent.MESSAGE_CREATED, {"conversation_id": "c"})
    await publisher.publish(org, WebhookEvent.MESSAGE_CREATED, {"conversation_id": "d"})
    assert [tx.uow.log for tx in transactions.opened] == [["commit"], ["commit"]]  # one transaction each
    assert len(scheduler.calls) == 2 and {d.webhook_id for d in transactions.repo.deliveries.values()} == {
        wanted.id
    }


async def test_publish_in_own_transaction_never_raises() -> None:
    transactions = Transactions(Repo(), fails=True)
    publisher = PublishInOwnTransaction(transactions, Scheduler(), Clock())  # type: ignore[arg-type]
    await publisher.publish(uuid4(), WebhookEvent.MESSAGE_CREATED, {})
    assert transactions.opened == []


async def test_attempts_follow_the_schedule_then_fail() -> None:
    org = uuid4()
    target = hook(org, (WebhookEvent.PING,))
    repo = Repo([target])
    delivery = Delivery(
        uuid4(),
        org,
        target.id,
        WebhookEvent.PING,
        '{"a":1}',
        DeliveryStatus.PENDING,
        0,
        None,
        None,
        NOW,
        None,
    )
    repo.deliveries[delivery.id] = delivery
    sender = Sender([AttemptResult(500, "HTTP 500"), AttemptResult(None, "timed out")])
    scheduler = Scheduler()
    deliver = DeliverWebhook(repo, Box(), sender, scheduler, RetrySchedule(2, 30, 4), Uow(), Clock())  # type: ignore[arg-type]
    assert await deliver(delivery.id) is DeliveryStatus.PENDING
    assert scheduler.calls == [(delivery.id, 2, 30.0)]
    assert delivery.next_attempt_at == NOW + timedelta(seconds=30)  # what the sweeper watches
    assert await deliver(delivery.id) is DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None
    assert await deliver(delivery.id) is None  # settled: a duplicate job does nothing
    assert len(sender.sent) == 2
    url, body, headers = sender.sent[0]
    assert url == "https://example.com/h"
    assert (
        body == b'{"a":1}'
        and headers["Kalamna-Event"] == "ping"
        and headers["Kalamna-Delivery"] == str(delivery.id)
    )
    assert headers["Kalamna-Signature"].startswith(f"t={int(NOW.timestamp())},v1=")


async def test_a_new_delivery_is_due_at_once_and_a_success_settles_it() -> None:
    org = uuid4()
    target = hook(org, (WebhookEvent.PING,))
    repo = Repo([target])
    scheduler = Scheduler()
    await PublishWebhookEvent(repo, scheduler, Uow(), Clock()).publish(org, WebhookEvent.PING, {})  # type: ignore[arg-type]
    (delivery,) = repo.deliveries.values()
    assert delivery.next_attempt_at == NOW
    deliver = DeliverWebhook(
        repo,
        Box(),
        Sender([AttemptResult(204, None)]),
        scheduler,
        RetrySchedule(),
        Uow(),
        Clock(),  # type: ignore[arg-type]
    )
    assert await deliver(delivery.id) is DeliveryStatus.SUCCEEDED
    assert repo.deliveries[delivery.id].next_attempt_at is None


async def test_unreadable_secret_fails_the_delivery_without_sending() -> None:
    org = uuid4()
    target = hook(org, (WebhookEvent.PING,))
    target = Webhook(target.id, org, target.url, target.events, None, True, "sealed:other-key", NOW)
    repo = Repo([target])
    delivery = Delivery(
        uuid4(), org, target.id, WebhookEvent.PING, "{}", DeliveryStatus.PENDING, 0, None, None, NOW, None
    )
    repo.deliveries[delivery.id] = delivery
    sender = Sender([])
    deliver = DeliverWebhook(repo, Box(), sender, Scheduler(), RetrySchedule(), Uow(), Clock())  # type: ignore[arg-type]
    assert await deliver(delivery.id) is DeliveryStatus.FAILED
    assert sender.sent == [] and "cannot be decrypted" in (repo.deliveries[delivery.id].error or "")
