"""The webhook jobs: one attempt of one delivery (identified by its id only), and the sweeper that
re-queues attempts whose job was lost."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from dishka import AsyncContainer

from kalamna.application.webhooks import DeliverWebhook, RequeueOverdueDeliveries


async def deliver_webhook(ctx: dict[str, Any], *, delivery_id: str) -> str | None:
    """Retries of failed attempts are scheduled by the use case (its own backoff); SAQ's retries
    only cover infrastructure errors (database down), and a repeated attempt is harmless."""
    container: AsyncContainer = ctx["container"]
    async with container() as scope:
        deliver = await scope.get(DeliverWebhook)
        status = await deliver(UUID(delivery_id))
    return status.value if status is not None else None


async def requeue_webhook_deliveries(ctx: dict[str, Any]) -> int:
    """Every minute (worker/runner.py): pending deliveries overdue by over two minutes get their
    attempt job again; a job that still exists is not doubled (fixed key per attempt)."""
    container: AsyncContainer = ctx["container"]
    async with container() as scope:
        return await (await scope.get(RequeueOverdueDeliveries))()
