"""Analytics computed by PostgreSQL: aggregates with ``FILTER``, ``percentile_cont`` for the p95,
and ``generate_series`` for a by-day series that includes days without activity.

Periods are whole UTC days: rows are selected with ``created_at >= first 00:00Z AND created_at <
(last + 1) 00:00Z`` (timestamptz against aware datetimes, so the session's ``TimeZone`` plays no
part) and bucketed with ``date_trunc('day', created_at AT TIME ZONE 'UTC')``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    TIMESTAMP,
    Date,
    Float,
    and_,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql import ColumnElement

from kalamna.adapters.postgres.models import (
    ChatFeedbackRow,
    ChatHandoverRow,
    ChatMessageRow,
    ChatSessionRow,
    EmployeeRow,
    KnowledgeChunkRow,
    KnowledgeEntryRow,
    OrganizationRow,
)
from kalamna.domain.analytics import (
    LOW_RATING_MAX,
    ChatFigures,
    DateRange,
    DayActivity,
    FeedbackSummary,
    HandoverFigures,
    KnowledgeCounts,
    OrganizationCounts,
    TokenUsage,
    UnansweredQuestion,
    UnansweredReason,
)
from kalamna.domain.chat import MessageRole, ReplyOutcome
from kalamna.domain.identity import OrganizationStatus, Role
from kalamna.domain.pages import Page, PageRequest

_ROLES = [r.value for r in MessageRole]
_ASSISTANT = MessageRole.ASSISTANT.value
_NOT_ANSWERED = [ReplyOutcome.FALLBACK.value, ReplyOutcome.LLM_UNAVAILABLE.value]
# Replies that mean "not answered" in the unanswered list: also the system notice of a handover.
_UNANSWERED = [*_NOT_ANSWERED, ReplyOutcome.HANDOVER.value]
_REPLY_ROLES = [MessageRole.ASSISTANT.value, MessageRole.SYSTEM.value]


def _within(
    created_at: InstrumentedAttribute[Any],
    organization_id: InstrumentedAttribute[UUID],
    period: DateRange,
    organization: UUID | None,
) -> list[ColumnElement[bool]]:
    where = [created_at >= period.starts_at, created_at < period.ends_before]
    if organization is not None:
        where.insert(0, organization_id == organization)
    return where


def _utc_day(created_at: InstrumentedAttribute[Any]) -> ColumnElement[Any]:
    # Literal columns, not bind parameters: GROUP BY must see the very same expression.
    return func.date_trunc(literal_column("'day'"), func.timezone(literal_column("'UTC'"), created_at))


def _float(value: Decimal | float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


class SqlaAnalyticsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def organization_exists(self, organization_id: UUID) -> bool:
        found = await self._session.scalar(select(exists().where(OrganizationRow.id == organization_id)))
        return bool(found)

    async def chat_figures(self, period: DateRange, organization_id: UUID | None) -> ChatFigures:
        m, s, f = ChatMessageRow, ChatSessionRow, ChatFeedbackRow
        reply = m.role == _ASSISTANT
        messages = (
            select(
                func.count().filter(m.role.in_(_ROLES)).label("messages"),
                func.count().filter(reply).label("replies"),
                func.count().filter(reply, m.outcome.in_(_NOT_ANSWERED)).label("fallbacks"),
                func.avg(m.latency_ms).filter(reply).label("avg_ms"),
                func.percentile_cont(0.95).within_group(m.latency_ms).filter(reply).label("p95_ms"),
                func.coalesce(func.sum(m.prompt_tokens).filter(reply), 0).label("prompt_tokens"),
                func.coalesce(func.sum(m.completion_tokens).filter(reply), 0).label("completion_tokens"),
            )
            .where(*_within(m.created_at, m.organization_id, period, organization_id))
            .subquery("m")
        )
        sessions = (
            select(func.count().label("sessions"))
            .where(*_within(s.created_at, s.organization_id, period, organization_id))
            .subquery("s")
        )
        feedback = (
            select(func.count().label("feedback_count"), func.avg(f.rating).label("feedback_average"))
            .where(*_within(f.created_at, f.organization_id, period, organization_id))
            .subquery("f")
        )
        rate = func.coalesce(
            cast(messages.c.fallbacks, Float) / func.nullif(messages.c.replies, 0), literal(0.0)
        )
        row = (
            await self._session.execute(
                select(
                    sessions.c.sessions,
                    messages.c.messages,
                    messages.c.replies,
                    messages.c.avg_ms,
                    messages.c.p95_ms,
                    messages.c.fallbacks,
                    rate.label("fallback_rate"),
                    feedback.c.feedback_count,
                    feedback.c.feedback_average,
                    messages.c.prompt_tokens,
                    messages.c.completion_tokens,
                ).select_from(messages.join(sessions, true()).join(feedback, true()))
            )
        ).one()
        return ChatFigures(
            sessions=int(row.sessions),
            messages=int(row.messages),
            replies=int(row.replies),
            avg_reply_ms=_float(row.avg_ms, 1),
            p95_reply_ms=_float(row.p95_ms, 1),
            fallbacks=int(row.fallbacks),
            fallback_rate=_float(row.fallback_rate, 4) or 0.0,
            feedback=FeedbackSummary(count=int(row.feedback_count), average=_float(row.feedback_average, 2)),
            tokens=TokenUsage(prompt=int(row.prompt_tokens), completion=int(row.completion_tokens)),
        )

    async def handover_figures(self, period: DateRange, organization_id: UUID) -> HandoverFigures:
        h, s = ChatHandoverRow, ChatSessionRow
        wait_s = func.extract("epoch", h.first_response_at - h.requested_at)
        answered = h.first_response_at.is_not(None)
        row = (
            await self._session.execute(
                select(
                    func.count().label("handovers"),
                    func.percentile_cont(0.5).within_group(wait_s).filter(answered).label("p50"),
                    func.percentile_cont(0.95).within_group(wait_s).filter(answered).label("p95"),
                ).where(*_within(h.requested_at, h.organization_id, period, organization_id))
            )
        ).one()
        handed = exists().where(h.session_id == s.id)
        sessions = (
            await self._session.execute(
                select(func.count().label("started"), func.count().filter(handed).label("handed")).where(
                    *_within(s.created_at, s.organization_id, period, organization_id)
                )
            )
        ).one()
        rate = sessions.handed / sessions.started if sessions.started else 0.0
        return HandoverFigures(
            count=int(row.handovers),
            rate=round(float(rate), 4),
            first_response_p50_s=_float(row.p50, 1),
            first_response_p95_s=_float(row.p95, 1),
        )

    async def by_day(self, period: DateRange, organization_id: UUID | None) -> list[DayActivity]:
        m, s = ChatMessageRow, ChatSessionRow
        days = (
            func.generate_series(
                cast(literal(period.first, Date), TIMESTAMP(timezone=False)),
                cast(literal(period.last, Date), TIMESTAMP(timezone=False)),
                literal_column("interval '1 day'"),
            )
            .table_valued("day")
            .render_derived(name="d")
        )
        session_days = (
            select(_utc_day(s.created_at).label("day"), func.count().label("n"))
            .where(*_within(s.created_at, s.organization_id, period, organization_id))
            .group_by(_utc_day(s.created_at))
            .subquery("sd")
        )
        message_days = (
            select(_utc_day(m.created_at).label("day"), func.count().label("n"))
            .where(m.role.in_(_ROLES), *_within(m.created_at, m.organization_id, period, organization_id))
            .group_by(_utc_day(m.created_at))
            .subquery("md")
        )
        rows = await self._session.execute(
            select(
                cast(days.c.day, Date).label("day"),
                func.coalesce(session_days.c.n, 0).label("sessions"),
                func.coalesce(message_days.c.n, 0).label("messages"),
            )
            .select_from(
                days.outerjoin(session_days, session_days.c.day == days.c.day).outerjoin(
                    message_days, message_days.c.day == days.c.day
                )
            )
            .order_by(days.c.day)
        )
        return [DayActivity(day=r.day, sessions=int(r.sessions), messages=int(r.messages)) for r in rows]

    async def organization_counts(self) -> OrganizationCounts:
        o = OrganizationRow
        row = (
            await self._session.execute(
                select(
                    func.count().label("total"),
                    func.count().filter(o.status == OrganizationStatus.ACTIVE.value).label("active"),
                    func.count().filter(o.status == OrganizationStatus.PENDING.value).label("pending"),
                    func.count().filter(o.status == OrganizationStatus.SUSPENDED.value).label("suspended"),
                )
            )
        ).one()
        return OrganizationCounts(
            total=int(row.total),
            active=int(row.active),
            pending=int(row.pending),
            suspended=int(row.suspended),
        )

    async def employee_count(self) -> int:
        count = await self._session.scalar(
            select(func.count()).where(EmployeeRow.role != Role.SUPERUSER.value)
        )
        return int(count or 0)

    async def knowledge_counts(self) -> KnowledgeCounts:
        row = (
            await self._session.execute(
                select(
                    select(func.count()).select_from(KnowledgeEntryRow).scalar_subquery().label("entries"),
                    select(func.count()).select_from(KnowledgeChunkRow).scalar_subquery().label("chunks"),
                )
            )
        ).one()
        return KnowledgeCounts(entries=int(row.entries), chunks=int(row.chunks))

    async def unanswered(
        self, organization_id: UUID, period: DateRange, page: PageRequest
    ) -> Page[UnansweredQuestion]:
        f = ChatFeedbackRow
        reply = aliased(ChatMessageRow, name="r")
        question = aliased(ChatMessageRow, name="q")
        rated = (
            select(f.message_id, func.min(f.rating).label("rating"))
            .where(f.organization_id == organization_id, f.message_id.is_not(None))
            .group_by(f.message_id)
            .subquery("rated")
        )
        matches = (
            select(
                question.id.label("message_id"),
                question.session_id,
                question.content.label("question"),
                question.created_at.label("asked_at"),
                reply.id.label("reply_id"),
                reply.content.label("reply"),
                reply.outcome,
                rated.c.rating,
            )
            .select_from(reply)
            .join(
                question,
                and_(
                    question.id == reply.reply_to,
                    question.organization_id == organization_id,
                    question.role == MessageRole.USER.value,
                ),
            )
            .outerjoin(rated, rated.c.message_id == reply.id)
            .where(
                reply.organization_id == organization_id,
                reply.role.in_(_REPLY_ROLES),
                # A reply follows its question: this bound lets the (organization, created_at) indexes work.
                reply.created_at >= period.starts_at,
                question.created_at >= period.starts_at,
                question.created_at < period.ends_before,
                or_(reply.outcome.in_(_UNANSWERED), rated.c.rating <= LOW_RATING_MAX),
            )
            .subquery("u")
        )
        total = await self._session.scalar(select(func.count()).select_from(matches))
        rows = await self._session.execute(
            select(matches)
            .order_by(matches.c.asked_at.desc(), matches.c.message_id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        items = [
            UnansweredQuestion(
                message_id=r.message_id,
                session_id=r.session_id,
                question=r.question,
                reply_id=r.reply_id,
                reply=r.reply,
                reason=_reason(r.outcome),
                rating=None if r.rating is None else int(r.rating),
                asked_at=r.asked_at,
            )
            for r in rows
        ]
        return Page(items, int(total or 0), page.limit, page.offset)


def _reason(outcome: str | None) -> UnansweredReason:
    if outcome == ReplyOutcome.FALLBACK.value:
        return UnansweredReason.FALLBACK
    if outcome == ReplyOutcome.LLM_UNAVAILABLE.value:
        return UnansweredReason.LLM_UNAVAILABLE
    if outcome == ReplyOutcome.HANDOVER.value:
        return UnansweredReason.HANDOVER
    return UnansweredReason.LOW_RATING
