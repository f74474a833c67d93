"""Analytics for the platform (superuser) and for one organization (owner, staff)."""

from __future__ import annotations

from datetime import UTC
from uuid import UUID

from kalamna.application.access import require
from kalamna.application.auth.principal import Principal
from kalamna.domain.analytics import (
    DateRange,
    OrganizationAnalytics,
    PlatformAnalytics,
    UnansweredQuestion,
)
from kalamna.domain.errors import NotFound
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.policy import Action
from kalamna.ports.analytics import AnalyticsRepository
from kalamna.ports.security import Clock


def _period(clock: Clock, date_from: str | None, date_to: str | None) -> DateRange:
    return DateRange.parse(date_from, date_to, clock.now().astimezone(UTC).date())


class GetPlatformAnalytics:
    def __init__(self, analytics: AnalyticsRepository, clock: Clock) -> None:
        self._analytics = analytics
        self._clock = clock

    async def __call__(
        self, principal: Principal, *, date_from: str | None = None, date_to: str | None = None
    ) -> PlatformAnalytics:
        require(principal, None, Action.ADMINISTER_PLATFORM)
        period = _period(self._clock, date_from, date_to)
        return PlatformAnalytics(
            period=period,
            organizations=await self._analytics.organization_counts(),
            employees=await self._analytics.employee_count(),
            knowledge=await self._analytics.knowledge_counts(),
            chat=await self._analytics.chat_figures(period, None),
            by_day=await self._analytics.by_day(period, None),
        )


class GetOrganizationAnalytics:
    def __init__(self, analytics: AnalyticsRepository, clock: Clock) -> None:
        self._analytics = analytics
        self._clock = clock

    async def __call__(
        self,
        principal: Principal,
        organization_id: UUID,
        *,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> OrganizationAnalytics:
        require(principal, organization_id, Action.READ_ANALYTICS)
        period = _period(self._clock, date_from, date_to)
        if not await self._analytics.organization_exists(organization_id):
            raise NotFound()
        return OrganizationAnalytics(
            organization_id=organization_id,
            period=period,
            chat=await self._analytics.chat_figures(period, organization_id),
            by_day=await self._analytics.by_day(period, organization_id),
            handover=await self._analytics.handover_figures(period, organization_id),
        )


class ListUnansweredQuestions:
    def __init__(self, analytics: AnalyticsRepository, clock: Clock) -> None:
        self._analytics = analytics
        self._clock = clock

    async def __call__(
        self,
        principal: Principal,
        organization_id: UUID,
        *,
        page: PageRequest,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Page[UnansweredQuestion]:
        require(principal, organization_id, Action.READ_ANALYTICS)
        period = _period(self._clock, date_from, date_to)
        if not await self._analytics.organization_exists(organization_id):
            raise NotFound()
        return await self._analytics.unanswered(organization_id, period, page)
