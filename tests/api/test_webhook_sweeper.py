"""The sweeper of lost webhook jobs: a delivery whose attempt job never ran (Redis was down when it
was scheduled, or the job's retries ran out during a database outage) is scheduled again once it is
overdue, exactly once, and then really arrives."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from kalamna.application.webhooks import RequeueOverdueDeliveries, event_body
from kalamna.config import Settings
from kalamna.di import make_container
from kalamna.domain.ids import new_id
from kalamna.domain.webhooks import Delivery, DeliveryStatus, WebhookEvent
from kalamna.ports.jobs import DELIVER_WEBHOOK
from kalamna.ports.repositories import UnitOfWork
from kalamna.ports.webhooks import WebhookRepository
from tests.api.conftest import RecordingJobs, recording_jobs
from tests.api.helpers import World, live_account
from tests.api.test_webhooks import create_hook, hooks, wait_for_delivery
from tests.conftest import make_test_settings
from tests.fakes.webhook_receiver import WebhookReceiver


@pytest.fixture
def settings(services, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_test_settings(
        services,
        tmp_path / "data",
        webhook_allow_private_targets=True,
        webhook_retry_base_s=0.0,
        webhook_timeout_s=1.0,
        webhook_max_attempts=3,
    )


async def sweep(settings: Settings, grace: timedelta, queue: RecordingJobs | None = None) -> int:
    """Run the sweeper as the worker does, in a container of its own (the test client runs the app
    on another event loop); ``queue`` records the jobs instead of sending them to SAQ."""
    container = make_container(settings, *([recording_jobs(queue)] if queue is not None else []))
    try:
        async with container() as scope:
            return await (await scope.get(RequeueOverdueDeliveries))(grace=grace)
    finally:
        await container.close()


async def store(settings: Settings, *deliveries: Delivery) -> None:
    container = make_container(settings)
    try:
        async with container() as scope:
            repository = await scope.get(WebhookRepository)
            for delivery in deliveries:
                await repository.add_delivery(delivery)
            await (await scope.get(UnitOfWork)).commit()
    finally:
        await container.close()


async def test_a_lost_attempt_job_is_scheduled_again_once_overdue_and_only_once(
    client: AsyncTestClient, world: World, jobs: RecordingJobs, settings: Settings
) -> None:
    created = await create_hook(client, world.owner, "http://127.0.0.1:9/hook")
    ping = await client.post(f"{hooks(world.owner)}/{created['id']}/test", headers=world.owner.auth)
    assert ping.status_code == 202
    delivery_id = ping.json()["delivery_id"]
    assert [j.key for j in jobs.jobs if j.task == DELIVER_WEBHOOK] == [f"webhook:{delivery_id}:1"]
    swept = RecordingJobs()  # the queue lost the job (Redis restarted without it)

    assert await sweep(settings, timedelta(minutes=2), swept) == 0  # not overdue: its job may still come
    assert swept.jobs == []

    assert await sweep(settings, timedelta(0), swept) == 1
    (job,) = swept.jobs
    assert (job.task, job.key, job.kwargs) == (
        DELIVER_WEBHOOK,
        f"webhook:{delivery_id}:1",
        {"delivery_id": delivery_id},
    )

    assert await sweep(settings, timedelta(0), swept) == 1  # still pending: found again, the key dedups
    assert len(swept.jobs) == 1


async def test_settled_deliveries_are_never_swept(
    client: AsyncTestClient, world: World, settings: Settings
) -> None:
    created = await create_hook(client, world.owner, "http://127.0.0.1:9/hook")
    organization_id, webhook_id = UUID(world.owner.organization_id), UUID(created["id"])
    await store(
        settings,
        lost_delivery(organization_id, webhook_id, status=DeliveryStatus.SUCCEEDED),
        lost_delivery(organization_id, webhook_id, status=DeliveryStatus.FAILED),
    )
    swept = RecordingJobs()
    assert await sweep(settings, timedelta(0), swept) == 0
    assert swept.jobs == []


def lost_delivery(
    organization_id: UUID, webhook_id: UUID, status: DeliveryStatus = DeliveryStatus.PENDING
) -> Delivery:
    created_at = datetime.now(UTC) - timedelta(minutes=5)
    return Delivery(
        id=new_id(),
        organization_id=organization_id,
        webhook_id=webhook_id,
        event=WebhookEvent.PING,
        body=event_body(new_id(), WebhookEvent.PING, created_at, organization_id, {"message": "lost"}),
        status=status,
        attempts=0,
        response_status=None,
        error=None,
        created_at=created_at,
        last_attempt_at=None,
        next_attempt_at=created_at if status is DeliveryStatus.PENDING else None,
    )


async def test_a_delivery_written_while_redis_was_down_arrives_after_the_sweep(
    live_client: AsyncTestClient, settings: Settings
) -> None:
    client = live_client  # the app with real SAQ jobs and an in-process worker
    owner = await live_account(client, settings, "owner@sweep.test", "Sweep")
    with WebhookReceiver() as receiver:
        created = await create_hook(client, owner, receiver.url)
        delivery = lost_delivery(UUID(owner.organization_id), UUID(created["id"]))
        await store(settings, delivery)  # committed, but its job never reached the queue

        assert await sweep(settings, timedelta(minutes=2)) == 1  # through the real SAQ queue
        settled = await wait_for_delivery(client, owner, created["id"], ("succeeded", "failed"))
        assert settled["id"] == str(delivery.id)
        assert settled["status"] == "succeeded" and settled["attempts"] == 1
        assert [r.headers["Kalamna-Delivery"] for r in receiver.received] == [str(delivery.id)]

        assert await sweep(settings, timedelta(0)) == 0  # settled: nothing left to sweep
        await asyncio.sleep(0.3)
        assert len(receiver.received) == 1
