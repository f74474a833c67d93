from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kalamna.adapters.postgres.models import WebhookDeliveryRow, WebhookRow
from kalamna.adapters.postgres.unit_of_work import SqlaUnitOfWork
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.webhooks import Delivery, DeliveryStatus, Webhook, WebhookEvent


def _webhook(row: WebhookRow) -> Webhook:
    known = {e.value for e in WebhookEvent}
    return Webhook(
        id=row.id,
        organization_id=row.organization_id,
        url=row.url,
        events=tuple(WebhookEvent(e) for e in row.events if e in known),
        description=row.description,
        active=row.active,
        encrypted_secret=row.encrypted_secret,
        created_at=row.created_at,
    )


def _delivery(row: WebhookDeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        organization_id=row.organization_id,
        webhook_id=row.webhook_id,
        event=WebhookEvent(row.event),
        body=row.body,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        response_status=row.response_status,
        error=row.error,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        next_attempt_at=row.next_attempt_at,
    )


class SqlaWebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, webhook: Webhook) -> None:
        self._session.add(
            WebhookRow(
                id=webhook.id,
                organization_id=webhook.organization_id,
                url=webhook.url,
                events=[e.value for e in webhook.events],
                description=webhook.description,
                active=webhook.active,
                encrypted_secret=webhook.encrypted_secret,
                created_at=webhook.created_at,
                updated_at=webhook.created_at,
            )
        )
        await self._session.flush()

    async def get(self, organization_id: UUID, webhook_id: UUID) -> Webhook | None:
        row = await self._session.scalar(
            select(WebhookRow).where(
                WebhookRow.organization_id == organization_id, WebhookRow.id == webhook_id
            )
        )
        return _webhook(row) if row else None

    async def list_page(self, organization_id: UUID, page: PageRequest) -> Page[Webhook]:
        where = WebhookRow.organization_id == organization_id
        total = await self._session.scalar(select(func.count()).select_from(WebhookRow).where(where))
        rows = await self._session.scalars(
            select(WebhookRow)
            .where(where)
            .order_by(WebhookRow.created_at.desc(), WebhookRow.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        return Page([_webhook(r) for r in rows], int(total or 0), page.limit, page.offset)

    async def delete(self, organization_id: UUID, webhook_id: UUID) -> bool:
        result = await self._session.execute(
            delete(WebhookRow)
            .where(WebhookRow.organization_id == organization_id, WebhookRow.id == webhook_id)
            .returning(WebhookRow.id)
        )
        return result.scalar_one_or_none() is not None

    async def subscribed(self, organization_id: UUID, event: WebhookEvent) -> list[Webhook]:
        rows = await self._session.scalars(
            select(WebhookRow).where(
                WebhookRow.organization_id == organization_id,
                WebhookRow.active.is_(True),
                WebhookRow.events.contains([event.value]),
            )
        )
        return [_webhook(r) for r in rows]

    async def add_delivery(self, delivery: Delivery) -> None:
        self._session.add(
            WebhookDeliveryRow(
                id=delivery.id,
                organization_id=delivery.organization_id,
                webhook_id=delivery.webhook_id,
                event=delivery.event.value,
                body=delivery.body,
                status=delivery.status.value,
                attempts=delivery.attempts,
                response_status=delivery.response_status,
                error=delivery.error,
                last_attempt_at=delivery.last_attempt_at,
                next_attempt_at=delivery.next_attempt_at,
                created_at=delivery.created_at,
                updated_at=delivery.created_at,
            )
        )
        await self._session.flush()

    async def get_delivery(self, delivery_id: UUID) -> Delivery | None:
        row = await self._session.get(WebhookDeliveryRow, delivery_id)
        return _delivery(row) if row else None

    async def save_delivery(self, delivery: Delivery) -> None:
        row = await self._session.get(WebhookDeliveryRow, delivery.id)
        if row is None:  # the webhook was deleted meanwhile (cascade)
            return
        row.status = delivery.status.value
        row.attempts = delivery.attempts
        row.response_status = delivery.response_status
        row.error = delivery.error
        row.last_attempt_at = delivery.last_attempt_at
        row.next_attempt_at = delivery.next_attempt_at
        await self._session.flush()

    async def overdue_deliveries(self, due_before: datetime, limit: int) -> list[Delivery]:
        # Served by the partial index ix_webhook_deliveries_pending_due (pending rows only).
        rows = await self._session.scalars(
            select(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
                WebhookDeliveryRow.next_attempt_at < due_before,
            )
            .order_by(WebhookDeliveryRow.next_attempt_at)
            .limit(limit)
        )
        return [_delivery(r) for r in rows]

    async def list_deliveries(
        self, organization_id: UUID, webhook_id: UUID, page: PageRequest
    ) -> Page[Delivery]:
        where = (WebhookDeliveryRow.organization_id == organization_id) & (
            WebhookDeliveryRow.webhook_id == webhook_id
        )
        total = await self._session.scalar(select(func.count()).select_from(WebhookDeliveryRow).where(where))
        rows = await self._session.scalars(
            select(WebhookDeliveryRow)
            .where(where)
            .order_by(WebhookDeliveryRow.created_at.desc(), WebhookDeliveryRow.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        return Page([_delivery(r) for r in rows], int(total or 0), page.limit, page.offset)


class _WebhookTransaction:
    def __init__(self, session: AsyncSession) -> None:
        self.webhooks = SqlaWebhookRepository(session)
        self.uow = SqlaUnitOfWork(session)


class SqlaWebhookTransactions:
    """``WebhookTransactions``: a session of its own per transaction."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[_WebhookTransaction]:
        async with self._factory() as session:
            yield _WebhookTransaction(session)
