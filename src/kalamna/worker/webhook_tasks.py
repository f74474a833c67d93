"""The webhook delivery job: one attempt of one delivery, identified by its id only."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from dishka import AsyncContainer

from kalamna.application.webhooks import DeliverWebhook


async def deliver_webhook(ctx: dict[str, Any], *, delivery_id: str) -> str | None:
    """Retries of failed attempts are scheduled by the use case (its own backoff); SAQ's retries
    only cover infrastructure errors (database down), and a repeated attempt is harmless."""
    container: AsyncContainer = ctx["container"]
    async with container() as scope:
        deliver = await scope.get(DeliverWebhook)
        status = await deliver(UUID(delivery_id))
    return status.value if status is not None else None
