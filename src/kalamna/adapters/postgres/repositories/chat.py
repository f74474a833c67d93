from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kalamna.adapters.postgres.models import ChatFeedbackRow, ChatMessageRow, ChatSessionRow
from kalamna.domain.chat import (
    ChatMessage,
    ChatSession,
    Feedback,
    MessageRole,
    ReplyOutcome,
    SessionStatus,
    SourceRef,
)
from kalamna.domain.handover import ConversationMode
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.text import normalize_for_search


def _session(row: ChatSessionRow) -> ChatSession:
    """A chat session from an ORM row (its column ``metadata`` is the attribute ``metadata_``)."""
    return _build_session(row, row.metadata_)


# Plain Core statements on the per-message path: the ORM's identity map and unit of work buy nothing
# there (every row is read or written once), and cost several times the driver's own work.
_SESSIONS: Table = ChatSessionRow.__table__  # type: ignore[assignment]
_MESSAGES: Table = ChatMessageRow.__table__  # type: ignore[assignment]
_S = _SESSIONS.c
_M = _MESSAGES.c
_SESSION_COLUMNS = [c for c in _S if c.key not in ("last_message_at", "staff_notified_at")]
_MESSAGE_COLUMNS = [c for c in _M if c.key not in ("search_text", "search_vector")]


def session_of(row: Any) -> ChatSession:
    """A chat session from a Core row of ``chat_sessions`` (the column is named ``metadata``)."""
    return _build_session(row, row.metadata)


def _build_session(row: Any, metadata: dict[str, Any] | None) -> ChatSession:
    return ChatSession(
        id=row.id,
        organization_id=row.organization_id,
        token_hash=row.token_hash,
        status=SessionStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        visitor=dict(row.visitor or {}),
        metadata=dict(metadata or {}),
        closed_at=row.closed_at,
        mode=ConversationMode(row.mode),
        assigned_to=row.assigned_to,
        handover_reason=row.handover_reason,
        waiting_since=row.waiting_since,
        fallbacks_in_row=row.fallbacks_in_row,
    )


def _message(row: Any) -> ChatMessage:
    return ChatMessage(
        id=row.id,
        session_id=row.session_id,
        organization_id=row.organization_id,
        role=MessageRole(row.role),
        content=row.content,
        created_at=row.created_at,
        sources=[SourceRef(UUID(s["entry_id"]), s["title"], float(s["score"])) for s in row.sources or []],
        reply_to=row.reply_to,
        outcome=ReplyOutcome(row.outcome) if row.outcome else None,
        model=row.model,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        latency_ms=row.latency_ms,
        first_token_ms=row.first_token_ms,
        author_id=row.author_id,
        author_name=row.author_name,
    )


def _sources(sources: list[SourceRef]) -> list[dict[str, Any]]:
    return [{"entry_id": str(s.entry_id), "title": s.title, "score": s.score} for s in sources]


class SqlaChatRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_session(self, session: ChatSession) -> None:
        self._session.add(
            ChatSessionRow(
                id=session.id,
                organization_id=session.organization_id,
                token_hash=session.token_hash,
                status=session.status.value,
                visitor=session.visitor,
                metadata_=session.metadata,
                created_at=session.created_at,
                updated_at=session.updated_at,
                mode=session.mode.value,
            )
        )
        await self._session.flush()

    async def get_session(
        self, organization_id: UUID, session_id: UUID, token_hash: str, *, lock: bool = False
    ) -> ChatSession | None:
        query = select(*_SESSION_COLUMNS).where(
            _S.organization_id == organization_id, _S.id == session_id, _S.token_hash == token_hash
        )
        row = (await self._session.execute(query.with_for_update() if lock else query)).first()
        return session_of(row._mapping) if row else None

    async def get_session_by_token(self, session_id: UUID, token_hash: str) -> ChatSession | None:
        row = await self._session.scalar(
            select(ChatSessionRow).where(
                ChatSessionRow.id == session_id, ChatSessionRow.token_hash == token_hash
            )
        )
        return _session(row) if row else None

    async def save_session(self, session: ChatSession) -> None:
        result = await self._session.execute(
            update(_SESSIONS)
            .where(_S.id == session.id)
            .values(
                status=session.status.value,
                closed_at=session.closed_at,
                updated_at=session.updated_at,
                mode=session.mode.value,
                assigned_to=session.assigned_to,
                handover_reason=session.handover_reason,
                waiting_since=session.waiting_since,
                fallbacks_in_row=session.fallbacks_in_row,
            )
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise LookupError(session.id)

    async def add_message(self, message: ChatMessage) -> None:
        """The message and its session's ``last_message_at``, in one statement."""
        added = (
            insert(_MESSAGES)
            .values(
                id=message.id,
                organization_id=message.organization_id,
                session_id=message.session_id,
                role=message.role.value,
                content=message.content,
                sources=_sources(message.sources),
                reply_to=message.reply_to,
                outcome=message.outcome.value if message.outcome else None,
                model=message.model,
                prompt_tokens=message.prompt_tokens,
                completion_tokens=message.completion_tokens,
                latency_ms=message.latency_ms,
                first_token_ms=message.first_token_ms,
                created_at=message.created_at,
                updated_at=message.created_at,
                author_id=message.author_id,
                author_name=message.author_name,
                search_text=normalize_for_search(message.content),
            )
            .returning(_M.session_id)
            .cte("added")
        )
        await self._session.execute(
            update(_SESSIONS)
            .where(_S.id == select(added.c.session_id).scalar_subquery())
            .values(
                last_message_at=func.greatest(_S.last_message_at, message.created_at),
                updated_at=func.greatest(_S.updated_at, message.created_at),
            )
            .add_cte(added)
        )

    async def messages(self, organization_id: UUID, session_id: UUID, page: PageRequest) -> Page[ChatMessage]:
        where = (ChatMessageRow.organization_id == organization_id, ChatMessageRow.session_id == session_id)
        total = await self._session.scalar(select(func.count()).select_from(ChatMessageRow).where(*where))
        rows = await self._session.scalars(
            select(ChatMessageRow)
            .where(*where)
            .order_by(ChatMessageRow.created_at, ChatMessageRow.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return Page([_message(r) for r in rows], int(total or 0), page.limit, page.offset)

    async def recent_messages(self, organization_id: UUID, session_id: UUID, limit: int) -> list[ChatMessage]:
        rows = await self._session.execute(
            select(*_MESSAGE_COLUMNS)
            .where(_M.organization_id == organization_id, _M.session_id == session_id)
            .order_by(_M.created_at.desc(), _M.id.desc())
            .limit(limit)
        )
        return [_message(r) for r in reversed(rows.all())]

    async def message_in_session(self, organization_id: UUID, session_id: UUID, message_id: UUID) -> bool:
        found = await self._session.scalar(
            select(ChatMessageRow.id).where(
                ChatMessageRow.organization_id == organization_id,
                ChatMessageRow.session_id == session_id,
                ChatMessageRow.id == message_id,
            )
        )
        return found is not None

    async def add_feedback(self, feedback: Feedback) -> None:
        self._session.add(
            ChatFeedbackRow(
                id=feedback.id,
                organization_id=feedback.organization_id,
                session_id=feedback.session_id,
                message_id=feedback.message_id,
                rating=feedback.rating,
                comment=feedback.comment,
                created_at=feedback.created_at,
                updated_at=feedback.created_at,
            )
        )
        await self._session.flush()
