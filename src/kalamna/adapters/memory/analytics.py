"""In-memory twin of ``adapters.postgres.analytics``: the widget's conversations (sessions, messages,
feedback, handovers) as tables, and the analytics figures computed over them and over the identity
and knowledge stores. ``tests/integration/contracts/test_analytics.py`` holds both to one contract."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from kalamna.adapters.memory.identity import MemoryStore
from kalamna.adapters.memory.knowledge import KnowledgeStore
from kalamna.adapters.memory.store import Transactional
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
from kalamna.domain.chat import ChatMessage, ChatSession, Feedback, MessageRole, ReplyOutcome
from kalamna.domain.identity import OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.pages import Page, PageRequest

_NOT_ANSWERED = (ReplyOutcome.FALLBACK, ReplyOutcome.LLM_UNAVAILABLE)
_REASONS = {
    ReplyOutcome.FALLBACK: UnansweredReason.FALLBACK,
    ReplyOutcome.LLM_UNAVAILABLE: UnansweredReason.LLM_UNAVAILABLE,
    ReplyOutcome.HANDOVER: UnansweredReason.HANDOVER,
}


@dataclass
class Handover:
    """A row of ``chat_handovers``: one stay of a conversation away from the bot."""

    id: UUID
    organization_id: UUID
    session_id: UUID
    question_id: UUID | None
    reason: str
    requested_at: datetime
    first_response_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class ChatStore(Transactional):
    sessions: dict[UUID, ChatSession] = field(default_factory=dict)
    messages: dict[UUID, ChatMessage] = field(default_factory=dict)
    feedback: dict[UUID, Feedback] = field(default_factory=dict)
    handovers: dict[UUID, Handover] = field(default_factory=dict)

    # Writes named as those of the chat and conversation repositories that produce these rows.
    def add_session(self, session: ChatSession) -> None:
        self.sessions[session.id] = copy.deepcopy(session)

    def add_message(self, message: ChatMessage) -> None:
        self.messages[message.id] = copy.deepcopy(message)

    def add_feedback(self, feedback: Feedback) -> None:
        self.feedback[feedback.id] = copy.deepcopy(feedback)

    def start_handover(
        self, organization_id: UUID, session_id: UUID, reason: str, question_id: UUID | None, at: datetime
    ) -> None:
        handover = Handover(new_id(), organization_id, session_id, question_id, reason, at)
        self.handovers[handover.id] = handover

    def first_response(self, session_id: UUID, at: datetime) -> None:
        for handover in self.handovers.values():
            if (
                handover.session_id == session_id
                and handover.ended_at is None
                and handover.first_response_at is None
            ):
                handover.first_response_at = at

    def end_handover(self, session_id: UUID, at: datetime) -> None:
        for handover in self.handovers.values():
            if handover.session_id == session_id and handover.ended_at is None:
                handover.ended_at = at


def _within(at: datetime, period: DateRange) -> bool:
    return period.starts_at <= at < period.ends_before


def _of(organization_id: UUID, wanted: UUID | None) -> bool:
    return wanted is None or organization_id == wanted


def _percentile(values: Sequence[float], fraction: float) -> float | None:
    """``percentile_cont``: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


class MemoryAnalyticsRepository:
    def __init__(self, identity: MemoryStore, knowledge: KnowledgeStore, chats: ChatStore) -> None:
        self._identity = identity
        self._knowledge = knowledge
        self._chats = chats

    async def organization_exists(self, organization_id: UUID) -> bool:
        return organization_id in self._identity.organizations

    def _messages(self, period: DateRange, organization_id: UUID | None) -> list[ChatMessage]:
        return [
            m
            for m in self._chats.messages.values()
            if _of(m.organization_id, organization_id) and _within(m.created_at, period)
        ]

    def _sessions(self, period: DateRange, organization_id: UUID | None) -> list[ChatSession]:
        return [
            s
            for s in self._chats.sessions.values()
            if _of(s.organization_id, organization_id) and _within(s.created_at, period)
        ]

    async def chat_figures(self, period: DateRange, organization_id: UUID | None) -> ChatFigures:
        messages = self._messages(period, organization_id)
        replies = [m for m in messages if m.role is MessageRole.ASSISTANT]
        latencies = [float(m.latency_ms) for m in replies if m.latency_ms is not None]
        fallbacks = sum(1 for m in replies if m.outcome in _NOT_ANSWERED)
        ratings = [
            f.rating
            for f in self._chats.feedback.values()
            if _of(f.organization_id, organization_id) and _within(f.created_at, period)
        ]
        return ChatFigures(
            sessions=len(self._sessions(period, organization_id)),
            messages=len(messages),
            replies=len(replies),
            avg_reply_ms=_rounded(sum(latencies) / len(latencies) if latencies else None, 1),
            p95_reply_ms=_rounded(_percentile(latencies, 0.95), 1),
            fallbacks=fallbacks,
            fallback_rate=round(fallbacks / len(replies), 4) if replies else 0.0,
            feedback=FeedbackSummary(
                count=len(ratings), average=_rounded(sum(ratings) / len(ratings) if ratings else None, 2)
            ),
            tokens=TokenUsage(
                prompt=sum(m.prompt_tokens for m in replies),
                completion=sum(m.completion_tokens for m in replies),
            ),
        )

    async def handover_figures(self, period: DateRange, organization_id: UUID) -> HandoverFigures:
        handovers = [
            h
            for h in self._chats.handovers.values()
            if h.organization_id == organization_id and _within(h.requested_at, period)
        ]
        waits = [
            (h.first_response_at - h.requested_at).total_seconds()
            for h in handovers
            if h.first_response_at is not None
        ]
        handed_sessions = {h.session_id for h in self._chats.handovers.values()}
        started = self._sessions(period, organization_id)
        handed = sum(1 for s in started if s.id in handed_sessions)
        return HandoverFigures(
            count=len(handovers),
            rate=round(handed / len(started), 4) if started else 0.0,
            first_response_p50_s=_rounded(_percentile(waits, 0.5), 1),
            first_response_p95_s=_rounded(_percentile(waits, 0.95), 1),
        )

    async def by_day(self, period: DateRange, organization_id: UUID | None) -> list[DayActivity]:
        sessions = [s.created_at.astimezone(UTC).date() for s in self._sessions(period, organization_id)]
        messages = [m.created_at.astimezone(UTC).date() for m in self._messages(period, organization_id)]
        days = [period.first + timedelta(days=n) for n in range(period.days)]
        return [DayActivity(day=d, sessions=sessions.count(d), messages=messages.count(d)) for d in days]

    async def organization_counts(self) -> OrganizationCounts:
        statuses = [o.status for o in self._identity.organizations.values()]
        return OrganizationCounts(
            total=len(statuses),
            active=statuses.count(OrganizationStatus.ACTIVE),
            pending=statuses.count(OrganizationStatus.PENDING),
            suspended=statuses.count(OrganizationStatus.SUSPENDED),
        )

    async def employee_count(self) -> int:
        return sum(1 for e in self._identity.employees.values() if e.role is not Role.SUPERUSER)

    async def knowledge_counts(self) -> KnowledgeCounts:
        return KnowledgeCounts(entries=len(self._knowledge.entries), chunks=len(self._knowledge.chunks))

    async def unanswered(
        self, organization_id: UUID, period: DateRange, page: PageRequest
    ) -> Page[UnansweredQuestion]:
        lowest: dict[UUID, int] = {}
        for f in self._chats.feedback.values():
            if f.organization_id == organization_id and f.message_id is not None:
                lowest[f.message_id] = min(f.rating, lowest.get(f.message_id, f.rating))
        found: list[UnansweredQuestion] = []
        for reply in self._chats.messages.values():
            question = self._chats.messages.get(reply.reply_to) if reply.reply_to else None
            rating = lowest.get(reply.id)
            reason = _REASONS.get(reply.outcome) if reply.outcome else None
            if (
                reply.organization_id != organization_id
                or reply.role not in (MessageRole.ASSISTANT, MessageRole.SYSTEM)
                or reply.created_at < period.starts_at
                or question is None
                or question.organization_id != organization_id
                or question.role is not MessageRole.USER
                or not _within(question.created_at, period)
                or (reason is None and (rating is None or rating > LOW_RATING_MAX))
            ):
                continue
            found.append(
                UnansweredQuestion(
                    message_id=question.id,
                    session_id=question.session_id,
                    question=question.content,
                    reply_id=reply.id,
                    reply=reply.content,
                    reason=reason or UnansweredReason.LOW_RATING,
                    rating=rating,
                    asked_at=question.created_at,
                )
            )
        found.sort(key=lambda q: (q.asked_at, q.message_id), reverse=True)
        return Page(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)
