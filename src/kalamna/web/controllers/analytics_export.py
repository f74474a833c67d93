"""``GET /orgs/{org_id}/analytics/export`` (owner, staff): the organization's analytics as CSV."""

from __future__ import annotations

from uuid import UUID

from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, get
from litestar.params import FromPath

from kalamna.application.analytics import GetOrganizationAnalytics
from kalamna.application.auth.principal import Principal
from kalamna.application.organizations import GetOrganization
from kalamna.domain.analytics import OrganizationAnalytics
from kalamna.web.controllers.analytics import DateFrom, DateTo
from kalamna.web.csv_export import MEDIA_TYPE, Row, attachment, csv_bytes


def analytics_rows(name: str, result: OrganizationAnalytics) -> list[Row]:
    """Two blocks separated by an empty row: ``metric,value`` totals, then ``date,sessions,messages``."""
    chat = result.chat
    rows: list[Row] = [
        ("metric", "value"),
        ("organization", name),
        ("from", result.period.first),
        ("to", result.period.last),
        ("days", result.period.days),
        ("sessions", chat.sessions),
        ("messages", chat.messages),
        ("replies", chat.replies),
        ("avg_reply_ms", chat.avg_reply_ms),
        ("p95_reply_ms", chat.p95_reply_ms),
        ("fallbacks", chat.fallbacks),
        ("fallback_rate", chat.fallback_rate),
        ("feedback_count", chat.feedback.count),
        ("feedback_average", chat.feedback.average),
        ("prompt_tokens", chat.tokens.prompt),
        ("completion_tokens", chat.tokens.completion),
        ("total_tokens", chat.tokens.total),
        (),
        ("date", "sessions", "messages"),
    ]
    rows.extend((day.day, day.sessions, day.messages) for day in result.by_day)
    return rows


@get(
    "/orgs/{org_id:uuid}/analytics/export",
    summary="The organization's analytics as CSV (owner, staff)",
    description="UTF-8 with BOM. Totals as 'metric,value' rows, an empty row, then the by-day series "
    "'date,sessions,messages'. Same period rules as GET .../analytics.",
    tags=["analytics"],
    media_type=MEDIA_TYPE,
)
@inject
async def analytics_export(
    org_id: FromPath[UUID],
    principal: FromDishka[Principal],
    get_analytics: FromDishka[GetOrganizationAnalytics],
    get_organization: FromDishka[GetOrganization],
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Response[bytes]:
    result = await get_analytics(principal, org_id, date_from=date_from, date_to=date_to)
    organization = await get_organization(principal, org_id)
    filename = f"analytics-{result.period.first}-{result.period.last}.csv"
    return Response(
        csv_bytes(analytics_rows(organization.name, result)),
        media_type=MEDIA_TYPE,
        headers=attachment(filename),
    )
