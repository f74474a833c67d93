"""Analytics: the reporting period (whole UTC days) and the figures computed over it.

Every figure is computed by the database (``adapters.postgres.analytics``); this module only
names the results and validates the period. ``docs/analytics.md`` says what each figure means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID

from kalamna.domain.errors import InvalidInput

DEFAULT_DAYS = 30
MAX_DAYS = 366
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_day(value: str, key: str) -> date:
    if _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(
        f"'{key}' must be a date written YYYY-MM-DD.",
        extra={"fields": [{"key": key, "message": "a date YYYY-MM-DD"}]},
    )


@dataclass(frozen=True, slots=True)
class DateRange:
    """Whole UTC days from ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise InvalidInput(
                "'from' must not be after 'to'.",
                extra={"fields": [{"key": "from", "message": "on or before 'to'"}]},
            )
        if self.days > MAX_DAYS:
            raise InvalidInput(
                f"The period spans at most {MAX_DAYS} days.",
                extra={"fields": [{"key": "to", "message": f"at most {MAX_DAYS} days after 'from'"}]},
            )

    @classmethod
    def parse(cls, date_from: str | None, date_to: str | None, today: date) -> DateRange:
        """``from``/``to`` as given in a query; the default is the last 30 days ending ``today`` (UTC).

        With only ``to``, the period is the 30 days ending then; with only ``from``, it ends today.
        """
        last = _parse_day(date_to, "to") if date_to else None
        first = _parse_day(date_from, "from") if date_from else None
        if last is None:
            last = today if first is None or first <= today else first
        if first is None:
            first = last - timedelta(days=DEFAULT_DAYS - 1)
        return cls(first, last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def starts_at(self) -> datetime:
        """The first instant of the period: ``first`` 00:00 UTC (included)."""
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def ends_before(self) -> datetime:
        """The first instant after the period: the day after ``last``, 00:00 UTC (excluded)."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    count: int
    average: float | None  # None when there is no feedback


@dataclass(frozen=True, slots=True)
class TokenUsage:
    prompt: int
    completion: int

    @property
    def total(self) -> int:
        return self.prompt + self.completion


@dataclass(frozen=True, slots=True)
class ChatFigures:
    sessions: int
    messages: int  # user + assistant + agent messages
    replies: int  # assistant messages
    avg_reply_ms: float | None  # None when no reply has a latency
    p95_reply_ms: float | None
    fallbacks: int  # replies with outcome fallback or llm_unavailable
    fallback_rate: float  # fallbacks / replies, 0 when there is no reply
    feedback: FeedbackSummary
    tokens: TokenUsage


@dataclass(frozen=True, slots=True)
class DayActivity:
    day: date
    sessions: int
    messages: int


@dataclass(frozen=True, slots=True)
class OrganizationCounts:
    total: int
    active: int
    pending: int
    suspended: int


@dataclass(frozen=True, slots=True)
class KnowledgeCounts:
    entries: int
    chunks: int


@dataclass(frozen=True, slots=True)
class PlatformAnalytics:
    period: DateRange
    organizations: OrganizationCounts  # now, not limited to the period
    employees: int  # now: employees of organizations (superusers not counted)
    knowledge: KnowledgeCounts  # now
    chat: ChatFigures
    by_day: list[DayActivity]


@dataclass(frozen=True, slots=True)
class HandoverFigures:
    count: int  # conversations handed to a person (asked for, or taken by staff) within the period
    rate: float  # conversations started in the period that were handed over / conversations started
    first_response_p50_s: float | None  # from waiting (or taken) to the first agent message
    first_response_p95_s: float | None


@dataclass(frozen=True, slots=True)
class OrganizationAnalytics:
    organization_id: UUID
    period: DateRange
    chat: ChatFigures
    by_day: list[DayActivity]
    handover: HandoverFigures | None = None


class UnansweredReason(StrEnum):
    FALLBACK = "fallback"
    LLM_UNAVAILABLE = "llm_unavailable"
    LOW_RATING = "low_rating"
    HANDOVER = "handover"  # the question led to a handover: a person had to answer it


LOW_RATING_MAX = 2  # a reply rated this or lower counts as not answered


@dataclass(frozen=True, slots=True)
class UnansweredQuestion:
    message_id: UUID  # the customer's question
    session_id: UUID
    question: str
    reply_id: UUID
    reply: str
    reason: UnansweredReason
    rating: int | None  # the lowest rating the reply got, if any
    asked_at: datetime
