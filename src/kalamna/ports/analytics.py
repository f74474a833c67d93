"""Read-only port of the analytics figures; an adapter computes them in the database."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from kalamna.domain.analytics import (
    ChatFigures,
    DateRange,
    DayActivity,
    HandoverFigures,
    KnowledgeCounts,
    OrganizationCounts,
    UnansweredQuestion,
)
from kalamna.domain.pages import Page, PageRequest


class AnalyticsRepository(Protocol):
    async def organization_exists(self, organization_id: UUID) -> bool: ...

    async def chat_figures(self, period: DateRange, organization_id: UUID | None) -> ChatFigures:
        """Sessions, messages, replies, latency, fallbacks, feedback and tokens within the period;
        one organization's, or the whole platform's when ``organization_id`` is None."""
        ...

    async def by_day(self, period: DateRange, organization_id: UUID | None) -> list[DayActivity]:
        """One item per UTC day of the period, oldest first, days without activity included."""
        ...

    async def organization_counts(self) -> OrganizationCounts: ...

    async def employee_count(self) -> int:
        """Employees of organizations (superusers are not counted)."""
        ...

    async def knowledge_counts(self) -> KnowledgeCounts: ...

    async def unanswered(
        self, organization_id: UUID, period: DateRange, page: PageRequest
    ) -> Page[UnansweredQuestion]:
        """Questions asked within the period whose reply was a fallback, came while the model was
        unavailable, or was rated low; newest first."""
        ...

    async def handover_figures(self, period: DateRange, organization_id: UUID) -> HandoverFigures:
        """Handovers requested within the period and the time to a first human response."""
        ...
