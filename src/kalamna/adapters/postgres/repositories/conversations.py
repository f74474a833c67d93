"""Staff views of conversations: list (filters, full-text message search), detail, export, the
handover records; and the transactions replies use once their request has gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kalamna.adapters.postgres.models import (
    ChatFeedbackRow,
    ChatHandoverRow,
    ChatMessageRow,
    ChatSessionRow,
    EmployeeRow,
)
from kalamna.adapters.postgres.repositories.chat import (
    _S,
    _SESSION_COLUMNS,
    SqlaChatRepository,
    _session,
    session_of,
)
from kalamna.adapters.postgres.repositories.identity import SqlaEmployeeRepository
from kalamna.adapters.postgres.unit_of_work import SqlaUnitOfWork
from kalamna.domain.chat import ChatSession
from kalamna.domain.handover import ConversationFilters
from kalamna.domain.ids import new_id
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.search_query import and_query
from kalamna.ports.conversations import ConversationView, ExportRow

PREVIEW_CHARS = 140


def _figures() -> list[Any]:
    s, m, f = ChatSessionRow, ChatMessageRow, ChatFeedbackRow
    count = select(func.count()).where(m.session_id == s.id).correlate(s).scalar_subquery()
    last = (
        select(func.left(m.content, PREVIEW_CHARS))
        .where(m.session_id == s.id)
        .order_by(m.created_at.desc(), m.id.desc())
        .limit(1)
        .correlate(s)
        .scalar_subquery()
    )
    rating = (
        select(f.rating)
        .where(f.session_id == s.id)
        .order_by(f.created_at.desc(), f.id.desc())
        .limit(1)
        .correlate(s)
        .scalar_subquery()
    )
    return [count.label("message_count"), last.label("preview"), rating.label("rating")]


def _query(organization_id: UUID) -> Select[Any]:
    return (
        select(ChatSessionRow, EmployeeRow.full_name.label("assigned_name"), *_figures())
        .outerjoin(EmployeeRow, EmployeeRow.id == ChatSessionRow.assigned_to)
        .where(ChatSessionRow.organization_id == organization_id)
    )


def _view(row: Any) -> ConversationView:
    session_row: ChatSessionRow = row[0]
    return ConversationView(
        session=_session(session_row),
        assigned_name=row.assigned_name,
        message_count=int(row.message_count or 0),
        last_message_at=session_row.last_message_at,
        last_message_preview=row.preview,
        rating=None if row.rating is None else int(row.rating),
    )


def _filtered(query: Select[Any], organization_id: UUID, filters: ConversationFilters) -> Select[Any]:
    s = ChatSessionRow
    if filters.status:
        query = query.where(s.status == filters.status)
    if filters.mode:
        query = query.where(s.mode == filters.mode.value)
    if filters.assigned_to:
        query = query.where(s.assigned_to == filters.assigned_to)
    if filters.starts_at:
        query = query.where(s.created_at >= filters.starts_at)
    if filters.ends_before:
        query = query.where(s.created_at < filters.ends_before)
    if filters.text:
        tsquery = and_query(filters.text)
        m = ChatMessageRow
        matching = select(m.session_id).where(
            m.organization_id == organization_id,
            # the GIN index on search_vector answers this; no scan of every message
            m.search_vector.op("@@")(func.to_tsquery("simple", tsquery)),
        )
        query = query.where(s.id.in_(matching)) if tsquery else query.where(false())
    return query


class SqlaConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, organization_id: UUID, session_id: UUID) -> ChatSession | None:
        row = (
            await self._session.execute(
                select(*_SESSION_COLUMNS)
                .where(_S.organization_id == organization_id, _S.id == session_id)
                .with_for_update()
            )
        ).first()
        return session_of(row._mapping) if row else None

    async def view(self, organization_id: UUID, session_id: UUID) -> ConversationView | None:
        row = (
            await self._session.execute(
                _query(organization_id)
                .where(ChatSessionRow.id == session_id)
                .execution_options(populate_existing=True)
            )
        ).first()
        return _view(row) if row else None

    async def search(
        self, organization_id: UUID, filters: ConversationFilters, page: PageRequest
    ) -> Page[ConversationView]:
        s = ChatSessionRow
        ids = _filtered(select(s.id).where(s.organization_id == organization_id), organization_id, filters)
        total = await self._session.scalar(select(func.count()).select_from(ids.subquery()))
        activity = func.coalesce(s.last_message_at, s.created_at)
        rows = await self._session.execute(
            _filtered(_query(organization_id), organization_id, filters)
            .order_by(activity.desc(), s.id.desc())
            .limit(page.limit)
            .offset(page.offset)
            .execution_options(populate_existing=True)
        )
        return Page([_view(r) for r in rows], int(total or 0), page.limit, page.offset)

    async def export(
        self, organization_id: UUID, filters: ConversationFilters, limit: int
    ) -> list[ExportRow]:
        s, m = ChatSessionRow, ChatMessageRow
        sessions = _filtered(
            select(s.id).where(s.organization_id == organization_id), organization_id, filters
        ).subquery()
        rating = (
            select(ChatFeedbackRow.rating)
            .where(ChatFeedbackRow.session_id == s.id)
            .order_by(ChatFeedbackRow.created_at.desc(), ChatFeedbackRow.id.desc())
            .limit(1)
            .correlate(s)
            .scalar_subquery()
        )
        rows = await self._session.execute(
            select(
                s.id,
                s.created_at,
                s.visitor,
                s.mode,
                m.role,
                m.author_name,
                m.content,
                m.sources,
                rating.label("rating"),
            )
            .join(m, and_(m.session_id == s.id, m.organization_id == organization_id))
            .where(s.id.in_(select(sessions.c.id)))
            .order_by(s.created_at, s.id, m.created_at, m.id)
            .limit(limit)
        )
        return [
            ExportRow(
                session_id=r.id,
                started_at=r.created_at,
                visitor=dict(r.visitor or {}),
                mode=r.mode,
                role=r.role,
                author=r.author_name,
                content=r.content,
                sources=[str(x.get("title", "")) for x in r.sources or []],
                rating=None if r.rating is None else int(r.rating),
            )
            for r in rows
        ]

    async def start_handover(
        self, organization_id: UUID, session_id: UUID, reason: str, question_id: UUID | None, at: datetime
    ) -> None:
        self._session.add(
            ChatHandoverRow(
                id=new_id(),
                organization_id=organization_id,
                session_id=session_id,
                question_id=question_id,
                reason=reason,
                requested_at=at,
                created_at=at,
                updated_at=at,
            )
        )
        await self._session.flush()

    async def first_response(self, session_id: UUID, at: datetime) -> None:
        h = ChatHandoverRow
        await self._session.execute(
            update(h)
            .where(h.session_id == session_id, h.ended_at.is_(None), h.first_response_at.is_(None))
            .values(first_response_at=at, updated_at=at)
        )

    async def end_handover(self, session_id: UUID, at: datetime) -> None:
        h = ChatHandoverRow
        await self._session.execute(
            update(h)
            .where(h.session_id == session_id, h.ended_at.is_(None))
            .values(ended_at=at, updated_at=at)
        )

    async def claim_staff_notice(self, session_id: UUID, at: datetime) -> bool:
        s = ChatSessionRow
        claimed = await self._session.execute(
            update(s).where(s.id == session_id, s.staff_notified_at.is_(None)).values(staff_notified_at=at)
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]


class _Transaction:
    def __init__(self, session: AsyncSession) -> None:
        self.chats = SqlaChatRepository(session)
        self.conversations = SqlaConversationRepository(session)
        self.employees = SqlaEmployeeRepository(session)
        self.uow = SqlaUnitOfWork(session)


class SqlaChatTransactions:
    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[_Transaction]:
        async with self._factory() as session:
            yield _Transaction(session)
