"""Analytics: ``GET /analytics`` (section 8, superuser) and the organization's own
``GET /orgs/{org_id}/analytics`` and ``.../analytics/unanswered`` (owner, staff).

The port is wired in ``kalamna.di.repositories``, the use cases in ``kalamna.di.use_cases.operations``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import get
from litestar.params import FromPath, QueryParameter

from kalamna.application.analytics import (
    GetOrganizationAnalytics,
    GetPlatformAnalytics,
    ListUnansweredQuestions,
)
from kalamna.application.auth.principal import Principal
from kalamna.domain.analytics import ChatFigures, DateRange, DayActivity, UnansweredQuestion
from kalamna.web.pagination import Limit, Offset, page_of
from kalamna.web.schemas import ListOut, schema_name

DateFrom = Annotated[
    str | None,
    QueryParameter(name="from", description="first UTC day, YYYY-MM-DD (default: 29 days before 'to')"),
]
DateTo = Annotated[
    str | None, QueryParameter(name="to", description="last UTC day, YYYY-MM-DD (default: today)")
]


class PeriodOut(msgspec.Struct):
    first: date = msgspec.field(name="from")
    last: date = msgspec.field(name="to")
    days: int = 0

    @classmethod
    def of(cls, period: DateRange) -> PeriodOut:
        return cls(first=period.first, last=period.last, days=period.days)


class FeedbackFiguresOut(msgspec.Struct):
    count: int
    average: float | None


class TokensOut(msgspec.Struct):
    prompt: int
    completion: int
    total: int


class ChatOut(msgspec.Struct):
    sessions: int
    messages: int
    replies: int
    avg_reply_ms: float | None
    p95_reply_ms: float | None
    fallbacks: int
    fallback_rate: float
    feedback: FeedbackFiguresOut
    tokens: TokensOut

    @classmethod
    def of(cls, chat: ChatFigures) -> ChatOut:
        return cls(
            sessions=chat.sessions,
            messages=chat.messages,
            replies=chat.replies,
            avg_reply_ms=chat.avg_reply_ms,
            p95_reply_ms=chat.p95_reply_ms,
            fallbacks=chat.fallbacks,
            fallback_rate=chat.fallback_rate,
            feedback=FeedbackFiguresOut(chat.feedback.count, chat.feedback.average),
            tokens=TokensOut(chat.tokens.prompt, chat.tokens.completion, chat.tokens.total),
        )


class DayOut(msgspec.Struct):
    date: date
    sessions: int
    messages: int

    @classmethod
    def many(cls, days: list[DayActivity]) -> list[DayOut]:
        return [cls(d.day, d.sessions, d.messages) for d in days]


class OrganizationCountsOut(msgspec.Struct):
    total: int
    active: int
    pending: int
    suspended: int


class KnowledgeCountsOut(msgspec.Struct):
    entries: int
    chunks: int


class PlatformAnalyticsOut(msgspec.Struct):
    organizations: OrganizationCountsOut
    employees: int
    knowledge: KnowledgeCountsOut
    chat: ChatOut
    by_day: list[DayOut]
    period: PeriodOut


class HandoverFiguresOut(msgspec.Struct):
    count: int
    rate: float
    first_response_p50_s: float | None
    first_response_p95_s: float | None


class OrganizationAnalyticsOut(msgspec.Struct):
    organization_id: UUID
    chat: ChatOut
    by_day: list[DayOut]
    period: PeriodOut
    handover: HandoverFiguresOut | None = None


class UnansweredOut(msgspec.Struct):
    message_id: UUID
    session_id: UUID
    question: str
    reply_id: UUID
    reply: str
    reason: str
    rating: int | None
    asked_at: datetime

    @classmethod
    def of(cls, item: UnansweredQuestion) -> UnansweredOut:
        return cls(
            message_id=item.message_id,
            session_id=item.session_id,
            question=item.question,
            reply_id=item.reply_id,
            reply=item.reply,
            reason=item.reason.value,
            rating=item.rating,
            asked_at=item.asked_at,
        )


UnansweredPage = Annotated[ListOut[UnansweredOut], schema_name("UnansweredPage")]


@get(
    "/analytics",
    summary="Platform analytics (superuser)",
    description="Organizations, employees and knowledge now; chat figures and a by-day series over whole "
    "UTC days from 'from' to 'to' (both included; default the last 30 days, at most 366).",
    tags=["platform"],
)
@inject
async def platform_analytics(
    principal: FromDishka[Principal],
    get_analytics: FromDishka[GetPlatformAnalytics],
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> PlatformAnalyticsOut:
    result = await get_analytics(principal, date_from=date_from, date_to=date_to)
    return PlatformAnalyticsOut(
        organizations=OrganizationCountsOut(
            result.organizations.total,
            result.organizations.active,
            result.organizations.pending,
            result.organizations.suspended,
        ),
        employees=result.employees,
        knowledge=KnowledgeCountsOut(result.knowledge.entries, result.knowledge.chunks),
        chat=ChatOut.of(result.chat),
        by_day=DayOut.many(result.by_day),
        period=PeriodOut.of(result.period),
    )


@get(
    "/orgs/{org_id:uuid}/analytics",
    summary="The organization's chat analytics (owner, staff)",
    description="Chat figures and a by-day series over whole UTC days from 'from' to 'to' "
    "(both included; default the last 30 days, at most 366).",
    tags=["analytics"],
)
@inject
async def organization_analytics(
    org_id: FromPath[UUID],
    principal: FromDishka[Principal],
    get_analytics: FromDishka[GetOrganizationAnalytics],
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> OrganizationAnalyticsOut:
    result = await get_analytics(principal, org_id, date_from=date_from, date_to=date_to)
    return OrganizationAnalyticsOut(
        organization_id=result.organization_id,
        chat=ChatOut.of(result.chat),
        by_day=DayOut.many(result.by_day),
        period=PeriodOut.of(result.period),
        handover=HandoverFiguresOut(
            result.handover.count,
            result.handover.rate,
            result.handover.first_response_p50_s,
            result.handover.first_response_p95_s,
        )
        if result.handover
        else None,
    )


@get(
    "/orgs/{org_id:uuid}/analytics/unanswered",
    summary="Questions the bot could not answer well (owner, staff)",
    description="Questions asked within the period whose reply was the fallback (reason 'fallback'), "
    "came while the model was unreachable ('llm_unavailable') or was rated 2 or less ('low_rating'); "
    "newest first.",
    tags=["analytics"],
)
@inject
async def unanswered_questions(
    org_id: FromPath[UUID],
    principal: FromDishka[Principal],
    list_unanswered: FromDishka[ListUnansweredQuestions],
    date_from: DateFrom = None,
    date_to: DateTo = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> UnansweredPage:
    page = await list_unanswered(
        principal, org_id, page=page_of(limit, offset), date_from=date_from, date_to=date_to
    )
    return ListOut([UnansweredOut.of(i) for i in page.items], page.total, page.limit, page.offset)


ANALYTICS_HANDLERS = [platform_analytics, organization_analytics, unanswered_questions]
