"""Analytics for the platform and for one organization (``application/analytics.py``), resolved
from the production container with the in-memory analytics repository. The figures themselves are
held to the PostgreSQL ones by ``tests/integration/contracts/test_analytics.py``; these tests are
about who may see what, over which period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from dishka import AsyncContainer

from kalamna.adapters.memory.analytics import ChatStore
from kalamna.adapters.memory.security import FixedClock
from kalamna.application.analytics import (
    GetOrganizationAnalytics,
    GetPlatformAnalytics,
    ListUnansweredQuestions,
)
from kalamna.domain.analytics import DateRange, DayActivity, OrganizationCounts, UnansweredReason
from kalamna.domain.chat import ChatMessage, ChatSession, MessageRole, ReplyOutcome, SessionStatus
from kalamna.domain.errors import Forbidden, InvalidInput, NotFound
from kalamna.domain.identity import OrganizationStatus
from kalamna.domain.ids import new_id
from kalamna.domain.pages import PageRequest
from tests.unit.world import Tenant, add_organization, add_superuser, call

TODAY = date(2026, 11, 22)  # the FixedClock's day (09:00 UTC)
LAST_30_DAYS = DateRange(date(2026, 10, 24), TODAY)


async def conversation(
    container: AsyncContainer, tenant: Tenant, at: datetime, question: str, outcome: ReplyOutcome
) -> ChatMessage:
    """A session with one question and its reply, committed; returns the question."""
    chats = await container.get(ChatStore)
    session = ChatSession(new_id(), tenant.id, f"h-{new_id()}", SessionStatus.OPEN, at, at)
    asked = ChatMessage(new_id(), session.id, tenant.id, MessageRole.USER, question, at)
    answer = ChatMessage(
        new_id(),
        session.id,
        tenant.id,
        MessageRole.ASSISTANT,
        "Sorry." if outcome is not ReplyOutcome.ANSWERED else "Here you are.",
        at + timedelta(seconds=2),
        reply_to=asked.id,
        outcome=outcome,
        latency_ms=2000,
    )
    chats.add_session(session)
    chats.add_message(asked)
    chats.add_message(answer)
    chats.commit()
    return asked


NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


# --- GetPlatformAnalytics -------------------------------------------------------------------------


async def test_the_platform_view_counts_every_organization_over_the_last_30_days(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    root = await add_superuser(container)
    await add_organization(container, "Dormant", status=OrganizationStatus.SUSPENDED)
    await conversation(container, acme, NOON, "Hours?", ReplyOutcome.ANSWERED)
    await conversation(container, other, NOON, "Prices?", ReplyOutcome.FALLBACK)
    await conversation(
        container, other, datetime(2026, 10, 23, 23, 59, tzinfo=UTC), "Too old", ReplyOutcome.FALLBACK
    )
    found = await call(container, GetPlatformAnalytics, lambda uc: uc(root))
    assert found.period == LAST_30_DAYS
    assert found.organizations == OrganizationCounts(total=3, active=2, pending=0, suspended=1)
    assert found.employees == 4  # two per tenant; the superuser is not counted
    assert (found.chat.sessions, found.chat.messages, found.chat.replies, found.chat.fallbacks) == (
        2,
        4,
        2,
        1,
    )
    assert (found.chat.fallback_rate, found.chat.avg_reply_ms) == (0.5, 2000.0)
    assert len(found.by_day) == 30
    assert found.by_day[0].day == LAST_30_DAYS.first
    assert found.by_day[-3] == DayActivity(date(2026, 11, 20), 2, 4)


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        ("2026-11-01", "2026-11-10", DateRange(date(2026, 11, 1), date(2026, 11, 10))),
        ("2026-11-15", None, DateRange(date(2026, 11, 15), TODAY)),
        (None, "2026-06-30", DateRange(date(2026, 6, 1), date(2026, 6, 30))),
        ("2025-11-22", "2026-11-22", DateRange(date(2025, 11, 22), TODAY)),  # 366 days: the most
    ],
)
async def test_the_period_is_read_from_from_and_to(
    container: AsyncContainer, date_from: str | None, date_to: str | None, expected: DateRange
) -> None:
    root = await add_superuser(container)
    found = await call(
        container, GetPlatformAnalytics, lambda uc: uc(root, date_from=date_from, date_to=date_to)
    )
    assert (found.period, len(found.by_day)) == (expected, expected.days)


async def test_today_is_the_utc_day_whatever_the_clock_s_zone(container: AsyncContainer) -> None:
    root = await add_superuser(container)
    clock = await container.get(FixedClock)
    clock.current = datetime(2026, 11, 23, 1, 0, tzinfo=timezone(timedelta(hours=3)))  # 22 Nov 22:00 UTC
    assert (await call(container, GetPlatformAnalytics, lambda uc: uc(root))).period == LAST_30_DAYS


@pytest.mark.parametrize(
    ("date_from", "date_to", "key"),
    [
        ("2026-13-01", None, "from"),
        ("22/11/2026", None, "from"),
        (None, "2026-02-30", "to"),
        ("2026-11-10", "2026-11-01", "from"),
        ("2025-11-21", "2026-11-22", "to"),  # 367 days
    ],
)
async def test_a_bad_period_names_its_field(
    container: AsyncContainer, acme: Tenant, date_from: str | None, date_to: str | None, key: str
) -> None:
    root = await add_superuser(container)
    with pytest.raises(InvalidInput) as raised:
        await call(container, GetPlatformAnalytics, lambda uc: uc(root, date_from=date_from, date_to=date_to))
    assert raised.value.extra is not None
    assert [f["key"] for f in raised.value.extra["fields"]] == [key]
    with pytest.raises(InvalidInput):
        await call(
            container,
            GetOrganizationAnalytics,
            lambda uc: uc(acme.as_owner, acme.id, date_from=date_from, date_to=date_to),
        )
    with pytest.raises(InvalidInput):
        await call(
            container,
            ListUnansweredQuestions,
            lambda uc: uc(acme.as_owner, acme.id, page=PageRequest(), date_from=date_from, date_to=date_to),
        )


async def test_only_the_superuser_sees_the_platform(container: AsyncContainer, acme: Tenant) -> None:
    for who in (acme.as_owner, acme.as_staff):
        with pytest.raises(Forbidden):
            await call(container, GetPlatformAnalytics, lambda uc, w=who: uc(w))


# --- GetOrganizationAnalytics ---------------------------------------------------------------------


async def test_an_organization_sees_its_own_figures_only(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    await conversation(container, acme, NOON, "Hours?", ReplyOutcome.ANSWERED)
    await conversation(container, other, NOON, "Prices?", ReplyOutcome.FALLBACK)
    chats = await container.get(ChatStore)
    [acme_session] = [s for s in chats.sessions.values() if s.organization_id == acme.id]
    chats.start_handover(acme.id, acme_session.id, "requested", None, NOON + timedelta(minutes=1))
    chats.first_response(acme_session.id, NOON + timedelta(minutes=2))
    chats.commit()
    root = await add_superuser(container)
    for who in (acme.as_owner, acme.as_staff, root):
        found = await call(container, GetOrganizationAnalytics, lambda uc, w=who: uc(w, acme.id))
        assert (found.organization_id, found.period) == (acme.id, LAST_30_DAYS)
        assert (found.chat.sessions, found.chat.messages, found.chat.fallbacks) == (1, 2, 0)
        assert found.by_day[-3] == DayActivity(date(2026, 11, 20), 1, 2)
        assert found.handover is not None
        assert (found.handover.count, found.handover.rate, found.handover.first_response_p50_s) == (
            1,
            1.0,
            60.0,
        )


async def test_another_organization_s_analytics_are_not_found(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    root = await add_superuser(container)
    for who, organization_id in [(acme.as_owner, other.id), (acme.as_staff, other.id), (root, new_id())]:
        with pytest.raises(NotFound):
            await call(container, GetOrganizationAnalytics, lambda uc, w=who, o=organization_id: uc(w, o))
        with pytest.raises(NotFound):
            await call(
                container,
                ListUnansweredQuestions,
                lambda uc, w=who, o=organization_id: uc(w, o, page=PageRequest()),
            )


# --- ListUnansweredQuestions ----------------------------------------------------------------------


async def test_unanswered_questions_of_the_period_newest_first_and_paged(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    await conversation(container, acme, NOON, "Answered", ReplyOutcome.ANSWERED)
    await conversation(container, acme, NOON + timedelta(hours=1), "Parking?", ReplyOutcome.FALLBACK)
    await conversation(container, acme, NOON + timedelta(hours=2), "Refunds?", ReplyOutcome.LLM_UNAVAILABLE)
    await conversation(container, acme, datetime(2026, 9, 1, tzinfo=UTC), "Long ago", ReplyOutcome.FALLBACK)
    await conversation(container, other, NOON, "Theirs", ReplyOutcome.FALLBACK)

    async def questions(page: PageRequest, **period: str) -> tuple[list[tuple[str, UnansweredReason]], int]:
        found = await call(
            container, ListUnansweredQuestions, lambda uc: uc(acme.as_staff, acme.id, page=page, **period)
        )
        assert (found.limit, found.offset) == (page.limit, page.offset)
        return [(q.question, q.reason) for q in found.items], found.total

    assert await questions(PageRequest()) == (
        [("Refunds?", UnansweredReason.LLM_UNAVAILABLE), ("Parking?", UnansweredReason.FALLBACK)],
        2,
    )
    assert await questions(PageRequest(1, 1)) == ([("Parking?", UnansweredReason.FALLBACK)], 2)
    assert await questions(PageRequest(1, 2)) == ([], 2)
    assert await questions(PageRequest(), date_from="2026-09-01", date_to="2026-09-30") == (
        [("Long ago", UnansweredReason.FALLBACK)],
        1,
    )
