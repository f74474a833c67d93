"""Webhooks (owner): subscriptions, the event publisher the other use cases call, and one delivery
attempt per job.

A delivery row is written (and committed) before its job is queued; the job carries only the
delivery id. Each attempt signs the stored body afresh with the current time; a failed attempt
schedules the next one by the retry schedule until the last, which marks the delivery failed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from kalamna.application.access import require
from kalamna.application.auth.principal import Principal
from kalamna.domain.errors import InvalidInput, NotFound
from kalamna.domain.ids import new_id
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.policy import Action
from kalamna.domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    MAX_DESCRIPTION_LENGTH,
    SECRET_PREFIX,
    SIGNATURE_HEADER,
    AttemptResult,
    Delivery,
    DeliveryStatus,
    RetrySchedule,
    Webhook,
    WebhookEvent,
    check_url,
    parse_events,
    sign,
)
from kalamna.ports.repositories import OrganizationRepository, UnitOfWork
from kalamna.ports.security import Clock
from kalamna.ports.webhooks import (
    DeliveryScheduler,
    SecretBox,
    TargetGuard,
    WebhookRepository,
    WebhookSender,
    WebhookTransactions,
)
from kalamna.ports.widget import WidgetGate

log = logging.getLogger("kalamna.webhooks")
MAX_WEBHOOKS_PER_ORGANIZATION = 20


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def event_body(event_id: UUID, event: WebhookEvent, now: datetime, organization_id: UUID, data: Any) -> str:
    """The delivery payload ``{id, type, created_at, organization_id, data}`` as compact JSON."""
    payload = {
        "id": str(event_id),
        "type": event.value,
        "created_at": _iso(now),
        "organization_id": str(organization_id),
        "data": data,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    webhook: Webhook
    secret: str


class CreateWebhook:
    def __init__(
        self,
        webhooks: WebhookRepository,
        organizations: OrganizationRepository,
        guard: TargetGuard,
        box: SecretBox,
        uow: UnitOfWork,
        clock: Clock,
        gate: WidgetGate,
    ) -> None:
        self._webhooks = webhooks
        self._organizations = organizations
        self._guard = guard
        self._box = box
        self._uow = uow
        self._clock = clock
        self._gate = gate

    async def __call__(
        self,
        principal: Principal,
        organization_id: UUID,
        url: str,
        events: list[str],
        description: str | None,
    ) -> CreatedWebhook:
        require(principal, organization_id, Action.MANAGE_WEBHOOKS)
        if await self._organizations.get(organization_id) is None:
            raise NotFound()
        url = check_url(url)
        subscribed = parse_events(events)
        description = (description or "").strip() or None
        if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidInput(
                f"The description is at most {MAX_DESCRIPTION_LENGTH} characters.",
                extra={"fields": [{"key": "description"}]},
            )
        existing = await self._webhooks.list_page(organization_id, PageRequest(limit=1))
        if existing.total >= MAX_WEBHOOKS_PER_ORGANIZATION:
            raise InvalidInput(f"An organization has at most {MAX_WEBHOOKS_PER_ORGANIZATION} webhooks.")
        await self._guard.check(url)
        webhook_id = new_id()
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)  # 256 random bits
        webhook = Webhook(
            id=webhook_id,
            organization_id=organization_id,
            url=url,
            events=subscribed,
            description=description,
            active=True,
            encrypted_secret=self._box.seal(secret, str(webhook_id)),
            created_at=self._clock.now(),
        )
        await self._webhooks.add(webhook)
        await self._gate.changed(organization_id)
        await self._uow.commit()
        await self._gate.changed(organization_id)  # every process's SubscriptionCache is stale
        log.info("webhook created", extra={"webhook_id": str(webhook_id), "tenant_id": str(organization_id)})
        return CreatedWebhook(webhook, secret)


class ListWebhooks:
    def __init__(self, webhooks: WebhookRepository) -> None:
        self._webhooks = webhooks

    async def __call__(self, principal: Principal, organization_id: UUID, page: PageRequest) -> Page[Webhook]:
        require(principal, organization_id, Action.MANAGE_WEBHOOKS)
        return await self._webhooks.list_page(organization_id, page)


class DeleteWebhook:
    def __init__(self, webhooks: WebhookRepository, uow: UnitOfWork, gate: WidgetGate) -> None:
        self._webhooks = webhooks
        self._uow = uow
        self._gate = gate

    async def __call__(self, principal: Principal, organization_id: UUID, webhook_id: UUID) -> None:
        require(principal, organization_id, Action.MANAGE_WEBHOOKS)
        if not await self._webhooks.delete(organization_id, webhook_id):
            raise NotFound()
        await self._gate.changed(organization_id)
        await self._uow.commit()
        await self._gate.changed(organization_id)  # every process's SubscriptionCache is stale


class ListDeliveries:
    def __init__(self, webhooks: WebhookRepository) -> None:
        self._webhooks = webhooks

    async def __call__(
        self, principal: Principal, organization_id: UUID, webhook_id: UUID, page: PageRequest
    ) -> Page[Delivery]:
        require(principal, organization_id, Action.MANAGE_WEBHOOKS)
        if await self._webhooks.get(organization_id, webhook_id) is None:
            raise NotFound()
        return await self._webhooks.list_deliveries(organization_id, webhook_id, page)


class _Enqueuer:
    def __init__(
        self, webhooks: WebhookRepository, scheduler: DeliveryScheduler, uow: UnitOfWork, clock: Clock
    ) -> None:
        self._webhooks = webhooks
        self._scheduler = scheduler
        self._uow = uow
        self._clock = clock

    async def _deliver(
        self, organization_id: UUID, targets: list[Webhook], event: WebhookEvent, data: Any
    ) -> list[Delivery]:
        now = self._clock.now()
        body = event_body(new_id(), event, now, organization_id, data)
        deliveries = [
            Delivery(
                id=new_id(),
                organization_id=organization_id,
                webhook_id=webhook.id,
                event=event,
                body=body,
                status=DeliveryStatus.PENDING,
                attempts=0,
                response_status=None,
                error=None,
                created_at=now,
                last_attempt_at=None,
                next_attempt_at=now,
            )
            for webhook in targets
        ]
        for delivery in deliveries:
            await self._webhooks.add_delivery(delivery)
        await self._uow.commit()
        for delivery in deliveries:
            await self._scheduler.schedule(delivery.id, attempt=1, delay_s=0)
        return deliveries


class SubscriptionCache:
    """Per-process copies of each organization's active webhooks per event, used while the
    organization's generation (``WidgetGate``: one Redis call) is unchanged; creating or deleting a
    webhook changes it. Most organizations have no webhook: their chat messages then publish
    without touching PostgreSQL."""

    def __init__(self, gate: WidgetGate, max_entries: int = 10_000) -> None:
        self._gate = gate
        self._max_entries = max_entries
        self._entries: dict[tuple[UUID, WebhookEvent], tuple[str, list[Webhook]]] = {}

    async def subscribed(
        self, webhooks: WebhookRepository, organization_id: UUID, event: WebhookEvent
    ) -> list[Webhook]:
        generation = await self._gate.generation(organization_id)  # read before what it guards
        key = (organization_id, event)
        cached = self._entries.get(key)
        if cached is not None and cached[0] == generation:
            return cached[1]
        found = await webhooks.subscribed(organization_id, event)
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (generation, found)
        return found


class PublishWebhookEvent(_Enqueuer):
    """The ``WebhookEvents`` port: one delivery per active webhook subscribed to the event.

    Call it after the use case's own commit (it commits the delivery rows itself).
    """

    def __init__(
        self,
        webhooks: WebhookRepository,
        scheduler: DeliveryScheduler,
        uow: UnitOfWork,
        clock: Clock,
        subscriptions: SubscriptionCache | None = None,
    ) -> None:
        super().__init__(webhooks, scheduler, uow, clock)
        self._subscriptions = subscriptions

    async def _subscribed(self, organization_id: UUID, event: WebhookEvent) -> list[Webhook]:
        if self._subscriptions is None:
            return await self._webhooks.subscribed(organization_id, event)
        return await self._subscriptions.subscribed(self._webhooks, organization_id, event)

    async def publish(self, organization_id: UUID, event: WebhookEvent, data: Mapping[str, Any]) -> None:
        try:
            targets = [w for w in await self._subscribed(organization_id, event) if w.wants(event)]
            if targets:
                await self._deliver(organization_id, targets, event, dict(data))
            else:
                # End the read transaction: a chat request publishes before it streams its reply and
                # must not hold a pooled connection meanwhile (under load that starves the pool).
                await self._uow.rollback()
        except Exception:
            log.exception(
                "webhook event not published", extra={"event": event.value, "tenant_id": str(organization_id)}
            )
            with contextlib.suppress(Exception):
                await self._uow.rollback()


class PublishInOwnTransaction:
    """The ``DetachedWebhookEvents`` port: ``PublishWebhookEvent`` in a transaction of its own, for
    work outside a request (it lives as long as the app). Never raises either."""

    def __init__(
        self,
        transactions: WebhookTransactions,
        scheduler: DeliveryScheduler,
        clock: Clock,
        subscriptions: SubscriptionCache | None = None,
    ) -> None:
        self._transactions = transactions
        self._scheduler = scheduler
        self._clock = clock
        self._subscriptions = subscriptions

    async def publish(self, organization_id: UUID, event: WebhookEvent, data: Mapping[str, Any]) -> None:
        try:
            async with self._transactions() as tx:
                publisher = PublishWebhookEvent(
                    tx.webhooks, self._scheduler, tx.uow, self._clock, self._subscriptions
                )
                await publisher.publish(organization_id, event, data)
        except Exception:
            log.exception(
                "webhook event not published", extra={"event": event.value, "tenant_id": str(organization_id)}
            )


class SendTestPing(_Enqueuer):
    async def __call__(self, principal: Principal, organization_id: UUID, webhook_id: UUID) -> Delivery:
        require(principal, organization_id, Action.MANAGE_WEBHOOKS)
        webhook = await self._webhooks.get(organization_id, webhook_id)
        if webhook is None:
            raise NotFound()
        data = {"webhook_id": str(webhook.id), "message": "Kalamna webhook test"}
        (delivery,) = await self._deliver(organization_id, [webhook], WebhookEvent.PING, data)
        return delivery


class DeliverWebhook:
    """One attempt of one delivery (the job). Settled deliveries are left alone, so a duplicate job
    is harmless."""

    def __init__(
        self,
        webhooks: WebhookRepository,
        box: SecretBox,
        sender: WebhookSender,
        scheduler: DeliveryScheduler,
        schedule: RetrySchedule,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._webhooks = webhooks
        self._box = box
        self._sender = sender
        self._scheduler = scheduler
        self._schedule = schedule
        self._uow = uow
        self._clock = clock

    async def __call__(self, delivery_id: UUID) -> DeliveryStatus | None:
        delivery = await self._webhooks.get_delivery(delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            await self._uow.rollback()
            return None
        webhook = await self._webhooks.get(delivery.organization_id, delivery.webhook_id)
        await self._uow.rollback()  # no transaction held while the request is out
        if webhook is None:
            return None
        try:
            secret = self._box.open(webhook.encrypted_secret, str(webhook.id))
        except ValueError:
            delivery.give_up("The webhook secret cannot be decrypted; create the webhook again.", self._now())
            await self._save(delivery)
            return delivery.status
        body = delivery.body.encode()
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: delivery.event.value,
            DELIVERY_HEADER: str(delivery.id),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        }
        result: AttemptResult = await self._sender.post(webhook.url, body, headers)
        delay = delivery.record(result, self._now(), self._schedule)
        await self._save(delivery)
        log.info(
            "webhook attempt",
            extra={
                "delivery_id": str(delivery.id),
                "tenant_id": str(delivery.organization_id),
                "event": delivery.event.value,
                "attempt": delivery.attempts,
                "response_status": result.response_status,
                "outcome": delivery.status.value,
            },
        )
        if delay is not None:
            await self._scheduler.schedule(delivery.id, attempt=delivery.attempts + 1, delay_s=delay)
        return delivery.status

    def _now(self) -> datetime:
        return self._clock.now()

    async def _save(self, delivery: Delivery) -> None:
        await self._webhooks.save_delivery(delivery)
        await self._uow.commit()


class RequeueOverdueDeliveries:
    """The sweeper (worker cron): schedule again the pending deliveries whose next attempt is overdue
    by more than ``grace`` — their job was lost (Redis down when it was scheduled, or its retries
    exhausted by a database outage). Safe to run any time: the job key of an attempt is fixed, so
    a job still queued or running is not doubled, and an attempt job leaves settled deliveries alone."""

    BATCH = 500

    def __init__(
        self, webhooks: WebhookRepository, scheduler: DeliveryScheduler, uow: UnitOfWork, clock: Clock
    ) -> None:
        self._webhooks = webhooks
        self._scheduler = scheduler
        self._uow = uow
        self._clock = clock

    async def __call__(self, grace: timedelta = timedelta(minutes=2)) -> int:
        overdue = await self._webhooks.overdue_deliveries(self._clock.now() - grace, self.BATCH)
        await self._uow.rollback()  # a read only: no transaction held while Redis is called
        for delivery in overdue:
            await self._scheduler.schedule(delivery.id, attempt=delivery.attempts + 1, delay_s=0)
        if overdue:
            log.warning("webhook deliveries re-queued", extra={"count": len(overdue)})
        return len(overdue)
