"""Analytics (section 8 ``GET /analytics`` and the organization's own analytics) on a known data set
written straight into the tables: exact figures, UTC day boundaries, tenant isolation and roles."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.postgres.analytics import SqlaAnalyticsRepository
from kalamna.adapters.postgres.models import (
    ChatFeedbackRow,
    ChatMessageRow,
    ChatSessionRow,
    KnowledgeChunkRow,
    KnowledgeEntryRow,
    OrganizationRow,
)
from kalamna.domain.analytics import DateRange
from kalamna.domain.errors import InvalidInput
from kalamna.domain.pages import PageRequest
from kalamna.web.app import bind_container
from tests.api.conftest import shared_app, shared_container
from tests.api.helpers import World, build_world

API = "/api/v1"
PERIOD = {"from": "2026-03-01", "to": "2026-03-04"}  # 03-04 has no activity at all


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --------------------------------------------------------------------------------------------------
# the known data set


@dataclass
class Exchange:
    """A customer's question and the assistant's reply to it."""

    session: str
    asked: str
    replied: str
    outcome: str
    latency_ms: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    question_id: uuid.UUID = field(default_factory=uuid.uuid4)
    reply_id: uuid.UUID = field(default_factory=uuid.uuid4)


# Org A's sessions. S2 starts one second before midnight UTC, S3 exactly at midnight; S0 and S9 lie
# just outside the period.
SESSIONS_A = {
    "S0": "2026-02-28T23:59:59.999+00:00",
    "S1": "2026-03-01T10:00:00+00:00",
    "S2": "2026-03-01T23:59:59+00:00",
    "S3": "2026-03-02T00:00:00+00:00",
    "S4": "2026-03-03T12:00:00+00:00",
    "S9": "2026-03-05T00:00:00+00:00",
}
EXCHANGES_A = {
    "P0": Exchange("S0", "2026-02-28T23:59:59.999+00:00", "2026-02-28T23:59:59.999+00:00", "fallback", 9000),
    "P1": Exchange("S1", "2026-03-01T10:00:01+00:00", "2026-03-01T10:00:02+00:00", "answered", 100, 50, 10),
    "P2": Exchange("S1", "2026-03-01T10:01:00+00:00", "2026-03-01T10:01:01+00:00", "fallback", 200),
    # Written with a +03:00 offset: 02:30 in Riyadh is 23:30 UTC on the 1st.
    "P7": Exchange("S1", "2026-03-02T02:30:00+03:00", "2026-03-01T23:30:01+00:00", "answered", 600, 10, 5),
    "P3": Exchange(
        "S2", "2026-03-01T23:59:58+00:00", "2026-03-01T23:59:59.500+00:00", "answered", 300, 60, 20
    ),
    # The question just before midnight, its reply just after: one message on each day.
    "P4": Exchange(
        "S2", "2026-03-01T23:59:59.900+00:00", "2026-03-02T00:00:00.100+00:00", "answered", 400, 70, 30
    ),
    "P5": Exchange("S3", "2026-03-02T00:00:01+00:00", "2026-03-02T00:00:02+00:00", "llm_unavailable", 500),
    "P6": Exchange("S4", "2026-03-03T12:00:01+00:00", "2026-03-03T12:00:02+00:00", "answered", 1000, 80, 40),
    "P9": Exchange("S9", "2026-03-05T00:00:00+00:00", "2026-03-05T00:00:01+00:00", "fallback", 7000, 9, 9),
}
AGENT_MESSAGE_A = ("S4", "2026-03-03T12:05:00+00:00")
# (reply rated, or None for the whole session, session, rating, given at)
FEEDBACK_A = [
    ("P2", "S1", 2, "2026-03-01T10:02:00+00:00"),
    ("P6", "S4", 1, "2026-03-03T12:10:00+00:00"),
    ("P1", "S1", 5, "2026-03-01T10:03:00+00:00"),
    (None, "S3", 3, "2026-03-02T00:00:00+00:00"),
    ("P3", "S2", 1, "2026-03-05T00:00:00+00:00"),  # after the period: not counted, but P3 is rated low
]
# Org B: noise inside the period that org A's figures must never include.
SESSIONS_B = {"B1": "2026-03-02T10:00:00+00:00"}
EXCHANGES_B = {
    "Q1": Exchange("B1", "2026-03-02T10:00:01+00:00", "2026-03-02T10:00:02+00:00", "fallback", 5000, 999, 1),
}
FEEDBACK_B = [("Q1", "B1", 1, "2026-03-02T10:01:00+00:00")]

IN_PERIOD_A = ["P1", "P2", "P7", "P3", "P4", "P5", "P6"]
SESSION_IDS = {name: uuid.uuid4() for name in [*SESSIONS_A, *SESSIONS_B]}


def percentile_cont(values: list[int], fraction: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (position - lower) * (ordered[upper] - ordered[lower])


def _rows(
    organization: uuid.UUID, sessions: dict[str, str], exchanges: dict[str, Exchange]
) -> tuple[list[Any], dict[str, uuid.UUID]]:
    session_ids = {name: SESSION_IDS[name] for name in sessions}
    rows: list[Any] = [
        ChatSessionRow(
            id=session_ids[name],
            organization_id=organization,
            token_hash=uuid.uuid4().hex,
            status="open",
            created_at=at(created),
            updated_at=at(created),
        )
        for name, created in sessions.items()
    ]
    for x in exchanges.values():
        common = {"organization_id": organization, "session_id": session_ids[x.session]}
        rows.append(
            ChatMessageRow(
                id=x.question_id,
                role="user",
                content=f"question {x.session} {x.asked}",
                created_at=at(x.asked),
                updated_at=at(x.asked),
                **common,
            )
        )
        rows.append(
            ChatMessageRow(
                id=x.reply_id,
                role="assistant",
                content=f"reply {x.outcome}",
                reply_to=x.question_id,
                outcome=x.outcome,
                latency_ms=x.latency_ms,
                first_token_ms=x.latency_ms // 2,
                prompt_tokens=x.prompt_tokens,
                completion_tokens=x.completion_tokens,
                model="extractive",
                created_at=at(x.replied),
                updated_at=at(x.replied),
                **common,
            )
        )
    return rows, session_ids


async def seed(database_url: str, org_a: uuid.UUID, org_b: uuid.UUID) -> None:
    engine = create_async_engine(database_url)
    try:
        async with async_sessionmaker(engine)() as db:
            rows_a, sessions_a = _rows(org_a, SESSIONS_A, EXCHANGES_A)
            rows_b, sessions_b = _rows(org_b, SESSIONS_B, EXCHANGES_B)
            for kind in (ChatSessionRow, ChatMessageRow):  # no ORM relationships: insert parents first
                db.add_all([r for r in rows_a + rows_b if isinstance(r, kind)])
                await db.flush()
            agent_session, agent_at = AGENT_MESSAGE_A
            db.add(
                ChatMessageRow(
                    organization_id=org_a,
                    session_id=sessions_a[agent_session],
                    role="agent",
                    content="A human took over.",
                    created_at=at(agent_at),
                    updated_at=at(agent_at),
                )
            )
            await db.flush()
            for organization, feedback, exchanges, sessions in (
                (org_a, FEEDBACK_A, EXCHANGES_A, sessions_a),
                (org_b, FEEDBACK_B, EXCHANGES_B, sessions_b),
            ):
                for exchange, session, rating, given in feedback:
                    db.add(
                        ChatFeedbackRow(
                            organization_id=organization,
                            session_id=sessions[session],
                            message_id=exchanges[exchange].reply_id if exchange else None,
                            rating=rating,
                            created_at=at(given),
                            updated_at=at(given),
                        )
                    )
            now = datetime.now(UTC)
            for status in ("pending", "suspended"):
                db.add(OrganizationRow(name=f"Org {status}", status=status, created_at=now, updated_at=now))
            for organization, entries, chunks in ((org_a, 2, 3), (org_b, 1, 0)):
                for n in range(entries):
                    entry_id = uuid.uuid4()
                    db.add(
                        KnowledgeEntryRow(
                            id=entry_id,
                            organization_id=organization,
                            title=f"entry {n}",
                            source_type="text",
                            status="ready",
                            version=1,
                            content="text",
                            chunk_count=chunks,
                            token_count=1,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                    await db.flush()
                    for position in range(chunks if n == 0 else 0):
                        db.add(
                            KnowledgeChunkRow(
                                organization_id=organization,
                                entry_id=entry_id,
                                position=position,
                                content="text",
                                token_count=1,
                                search_text="text",
                                created_at=now,
                                updated_at=now,
                            )
                        )
            await db.commit()
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture
async def analytics_client(settings, clean_state, jobs: MemoryJobQueue) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    app = shared_app(settings)
    bind_container(app, shared_container(settings, jobs))
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.fixture
async def analytics_world(analytics_client, jobs, settings) -> World:  # type: ignore[no-untyped-def]
    return await build_world(analytics_client, jobs, settings)


@pytest.fixture
async def seeded(analytics_world: World, settings) -> World:  # type: ignore[no-untyped-def]
    await seed(
        settings.database_url,
        uuid.UUID(analytics_world.owner.organization_id),
        uuid.UUID(analytics_world.other_owner.organization_id),
    )
    return analytics_world


async def get_json(client: AsyncTestClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(API + path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --------------------------------------------------------------------------------------------------
# figures


async def test_organization_figures_on_the_known_data_set(
    analytics_client: AsyncTestClient, seeded: World
) -> None:
    body = await get_json(analytics_client, f"/orgs/{seeded.org}/analytics", seeded.owner.auth, **PERIOD)
    replies = [EXCHANGES_A[name] for name in IN_PERIOD_A]
    latencies = [x.latency_ms for x in replies]
    assert body["organization_id"] == seeded.org
    assert body["period"] == {"from": "2026-03-01", "to": "2026-03-04", "days": 4}
    assert body["chat"] == {
        "sessions": 4,  # S1..S4
        "messages": 15,  # 7 questions + 7 replies + 1 agent message
        "replies": 7,
        "avg_reply_ms": round(sum(latencies) / len(latencies), 1),
        "p95_reply_ms": round(percentile_cont(latencies, 0.95), 1),
        "fallbacks": 2,  # P2 fallback, P5 llm_unavailable
        "fallback_rate": round(2 / 7, 4),
        "feedback": {"count": 4, "average": round((2 + 1 + 5 + 3) / 4, 2)},
        "tokens": {"prompt": 270, "completion": 105, "total": 375},
    }
    # Python's own inclusive quantile agrees with the hand-written percentile_cont: 880 ms.
    assert body["chat"]["p95_reply_ms"] == 880.0
    assert statistics.quantiles(latencies, n=20, method="inclusive")[18] == pytest.approx(880.0)
    assert body["chat"]["avg_reply_ms"] == 442.9
    assert body["by_day"] == [
        {"date": "2026-03-01", "sessions": 2, "messages": 9},
        {"date": "2026-03-02", "sessions": 1, "messages": 3},
        {"date": "2026-03-03", "sessions": 1, "messages": 3},
        {"date": "2026-03-04", "sessions": 0, "messages": 0},
    ]


async def test_utc_day_boundaries(analytics_client: AsyncTestClient, seeded: World) -> None:
    """A period of one day holds exactly what happened from 00:00Z to 24:00Z."""
    auth = seeded.owner.auth
    day1 = await get_json(
        analytics_client, f"/orgs/{seeded.org}/analytics", auth, **{"from": "2026-03-01", "to": "2026-03-01"}
    )
    assert day1["chat"]["sessions"] == 2  # S1 and S2 (23:59:59), not S0 (23:59:59.999 the day before)
    assert day1["chat"]["messages"] == 9  # P4's question at 23:59:59.900 in, its reply at 00:00:00.100 out
    assert day1["chat"]["replies"] == 4  # P1, P2, P7 (02:30+03:00), P3
    assert day1["by_day"] == [{"date": "2026-03-01", "sessions": 2, "messages": 9}]
    day2 = await get_json(
        analytics_client, f"/orgs/{seeded.org}/analytics", auth, **{"from": "2026-03-02", "to": "2026-03-02"}
    )
    assert day2["chat"]["sessions"] == 1  # S3 at exactly 00:00:00
    assert day2["chat"]["replies"] == 2  # P4's reply and P5
    assert day2["chat"]["avg_reply_ms"] == 450.0
    assert day2["chat"]["feedback"] == {"count": 1, "average": 3.0}  # at 00:00:00 exactly
    before = await get_json(
        analytics_client, f"/orgs/{seeded.org}/analytics", auth, **{"from": "2026-02-28", "to": "2026-02-28"}
    )
    assert before["chat"]["sessions"] == 1 and before["chat"]["messages"] == 2  # S0 and P0 only
    after = await get_json(
        analytics_client, f"/orgs/{seeded.org}/analytics", auth, **{"from": "2026-03-05", "to": "2026-03-05"}
    )
    assert after["chat"]["messages"] == 2 and after["chat"]["feedback"]["count"] == 1


async def test_figures_do_not_depend_on_the_database_session_time_zone(seeded: World, settings) -> None:  # type: ignore[no-untyped-def]
    """Day boundaries and buckets are UTC whatever the connection's TimeZone (here UTC+14 and UTC-11)."""
    period = DateRange(date(2026, 3, 1), date(2026, 3, 4))
    org = uuid.UUID(seeded.org)
    results = []
    for zone in ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
        engine = create_async_engine(
            settings.database_url, connect_args={"server_settings": {"timezone": zone}}
        )
        try:
            async with AsyncSession(engine) as db:
                assert (await db.execute(text("SHOW TimeZone"))).scalar() == zone
                repository = SqlaAnalyticsRepository(db)
                results.append(
                    (
                        await repository.chat_figures(period, org),
                        await repository.by_day(period, org),
                        await repository.unanswered(org, period, PageRequest(100, 0)),
                    )
                )
        finally:
            await engine.dispose()
    assert results[0][1][0].sessions == 2
    assert results[1] == results[0]
    assert results[2] == results[0]


async def test_an_empty_period_has_zero_figures_and_a_day_per_date(
    analytics_client: AsyncTestClient, seeded: World
) -> None:
    body = await get_json(
        analytics_client,
        f"/orgs/{seeded.org}/analytics",
        seeded.staff.auth,
        **{"from": "2025-12-30", "to": "2026-01-02"},
    )
    assert body["chat"] == {
        "sessions": 0,
        "messages": 0,
        "replies": 0,
        "avg_reply_ms": None,
        "p95_reply_ms": None,
        "fallbacks": 0,
        "fallback_rate": 0.0,
        "feedback": {"count": 0, "average": None},
        "tokens": {"prompt": 0, "completion": 0, "total": 0},
    }
    assert [d["date"] for d in body["by_day"]] == ["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02"]
    assert all(d["sessions"] == 0 and d["messages"] == 0 for d in body["by_day"])


async def test_platform_figures_cover_every_organization(
    analytics_client: AsyncTestClient, seeded: World
) -> None:
    body = await get_json(analytics_client, "/analytics", seeded.superuser.auth, **PERIOD)
    latencies = [EXCHANGES_A[name].latency_ms for name in IN_PERIOD_A] + [5000]
    assert body["organizations"] == {"total": 4, "active": 2, "pending": 1, "suspended": 1}
    assert body["employees"] == 3  # owner and staff of A, owner of B; not the superuser
    assert body["knowledge"] == {"entries": 3, "chunks": 3}
    assert body["chat"] == {
        "sessions": 5,
        "messages": 17,
        "replies": 8,
        "avg_reply_ms": round(sum(latencies) / 8, 1),
        "p95_reply_ms": round(percentile_cont(latencies, 0.95), 1),
        "fallbacks": 3,
        "fallback_rate": 0.375,
        "feedback": {"count": 5, "average": 2.4},
        "tokens": {"prompt": 270 + 999, "completion": 105 + 1, "total": 1375},
    }
    assert body["chat"]["avg_reply_ms"] == 1012.5
    assert body["chat"]["p95_reply_ms"] == 3600.0
    assert body["by_day"] == [
        {"date": "2026-03-01", "sessions": 2, "messages": 9},
        {"date": "2026-03-02", "sessions": 2, "messages": 5},
        {"date": "2026-03-03", "sessions": 1, "messages": 3},
        {"date": "2026-03-04", "sessions": 0, "messages": 0},
    ]
    assert body["period"] == {"from": "2026-03-01", "to": "2026-03-04", "days": 4}


async def test_the_default_period_is_the_last_30_utc_days(
    analytics_client: AsyncTestClient, seeded: World
) -> None:
    before = datetime.now(UTC).date()
    body = await get_json(analytics_client, f"/orgs/{seeded.org}/analytics", seeded.owner.auth)
    after = datetime.now(UTC).date()
    last = date.fromisoformat(body["period"]["to"])
    assert last in (before, after)
    assert body["period"] == {
        "from": (last - timedelta(days=29)).isoformat(),
        "to": last.isoformat(),
        "days": 30,
    }
    assert len(body["by_day"]) == 30
    assert (
        body["by_day"][0]["date"] == body["period"]["from"] and body["by_day"][-1]["date"] == last.isoformat()
    )
    only_to = await get_json(analytics_client, "/analytics", seeded.superuser.auth, to="2026-03-04")
    assert only_to["period"] == {"from": "2026-02-03", "to": "2026-03-04", "days": 30}
    assert only_to["chat"]["sessions"] == 5 + 1  # S0 on 02-28 is inside now


# --------------------------------------------------------------------------------------------------
# unanswered questions


async def test_unanswered_questions_newest_first(analytics_client: AsyncTestClient, seeded: World) -> None:
    body = await get_json(
        analytics_client, f"/orgs/{seeded.org}/analytics/unanswered", seeded.staff.auth, **PERIOD
    )
    expected = [
        ("P6", "low_rating", 1),
        ("P5", "llm_unavailable", None),
        ("P3", "low_rating", 1),
        ("P2", "fallback", 2),
    ]
    assert body["total"] == 4 and body["limit"] == 20 and body["offset"] == 0
    assert [(i["message_id"], i["reason"], i["rating"]) for i in body["items"]] == [
        (str(EXCHANGES_A[name].question_id), reason, rating) for name, reason, rating in expected
    ]
    first = body["items"][0]
    p6 = EXCHANGES_A["P6"]
    assert first["reply_id"] == str(p6.reply_id)
    assert first["question"] == f"question S4 {p6.asked}"
    assert first["reply"] == "reply answered"
    assert datetime.fromisoformat(first["asked_at"]) == at(p6.asked)
    assert [i["session_id"] for i in body["items"]] == [
        str(SESSION_IDS[name]) for name in ("S4", "S3", "S2", "S1")
    ]


async def test_unanswered_pagination_and_period(analytics_client: AsyncTestClient, seeded: World) -> None:
    path = f"/orgs/{seeded.org}/analytics/unanswered"
    page = await get_json(analytics_client, path, seeded.owner.auth, limit=2, offset=1, **PERIOD)
    assert page["total"] == 4 and page["limit"] == 2 and page["offset"] == 1
    assert [i["message_id"] for i in page["items"]] == [
        str(EXCHANGES_A["P5"].question_id),
        str(EXCHANGES_A["P3"].question_id),
    ]
    beyond = await get_json(analytics_client, path, seeded.owner.auth, limit=5, offset=10, **PERIOD)
    assert beyond["items"] == [] and beyond["total"] == 4
    wider = await get_json(
        analytics_client, path, seeded.owner.auth, **{"from": "2026-02-28", "to": "2026-03-05"}
    )
    assert wider["total"] == 6  # P0 (02-28) and P9 (03-05) too
    assert wider["items"][0]["message_id"] == str(EXCHANGES_A["P9"].question_id)
    assert wider["items"][-1]["message_id"] == str(EXCHANGES_A["P0"].question_id)
    bad = await analytics_client.get(API + path, headers=seeded.owner.auth, params={"limit": 0})
    assert bad.status_code in (400, 422)


async def test_organization_b_sees_only_its_own(analytics_client: AsyncTestClient, seeded: World) -> None:
    auth = seeded.other_owner.auth
    org_b = seeded.other_owner.organization_id
    body = await get_json(analytics_client, f"/orgs/{org_b}/analytics", auth, **PERIOD)
    assert body["chat"]["sessions"] == 1 and body["chat"]["messages"] == 2
    assert body["chat"]["fallback_rate"] == 1.0
    assert body["chat"]["tokens"] == {"prompt": 999, "completion": 1, "total": 1000}
    unanswered = await get_json(analytics_client, f"/orgs/{org_b}/analytics/unanswered", auth, **PERIOD)
    assert [i["message_id"] for i in unanswered["items"]] == [str(EXCHANGES_B["Q1"].question_id)]
    assert unanswered["items"][0]["reason"] == "fallback" and unanswered["items"][0]["rating"] == 1


# --------------------------------------------------------------------------------------------------
# validation, roles, tenants


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01"},
        {"from": "2026-02-30"},
        {"to": "yesterday"},
        {"from": "20260301"},
        {"from": "2026-03-01T00:00:00"},
        {"from": "2026-03-05", "to": "2026-03-04"},
        {"from": "2025-01-01", "to": "2026-01-02"},  # 367 days
    ],
)
async def test_invalid_periods_are_422(
    analytics_client: AsyncTestClient, analytics_world: World, params: dict[str, str]
) -> None:
    for path, account in (
        (f"/orgs/{analytics_world.org}/analytics", analytics_world.owner),
        (f"/orgs/{analytics_world.org}/analytics/unanswered", analytics_world.staff),
        ("/analytics", analytics_world.superuser),
    ):
        response = await analytics_client.get(API + path, headers=account.auth, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.json()["code"] == "validation_error"


async def test_a_366_day_period_is_accepted(
    analytics_client: AsyncTestClient, analytics_world: World
) -> None:
    body = await get_json(
        analytics_client,
        f"/orgs/{analytics_world.org}/analytics",
        analytics_world.owner.auth,
        **{"from": "2024-01-01", "to": "2024-12-31"},  # a leap year
    )
    assert body["period"]["days"] == 366 and len(body["by_day"]) == 366


ROLES = ("owner", "staff", "other_owner", "superuser", "anonymous")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/analytics", (403, 403, 403, 200, 401)),
        ("/orgs/{org}/analytics", (200, 200, 404, 200, 401)),
        ("/orgs/{org}/analytics/unanswered", (200, 200, 404, 200, 401)),
        ("/orgs/{missing}/analytics", (404, 404, 404, 404, 401)),
        ("/orgs/{missing}/analytics/unanswered", (404, 404, 404, 404, 401)),
    ],
)
async def test_roles(
    analytics_client: AsyncTestClient, analytics_world: World, path: str, expected: tuple[int, ...]
) -> None:
    url = API + path.format(org=analytics_world.org, missing=uuid.uuid4())
    for role, status in zip(ROLES, expected, strict=True):
        headers = {} if role == "anonymous" else getattr(analytics_world, role).auth
        response = await analytics_client.get(url, headers=headers)
        assert response.status_code == status, (role, response.text)
        if status >= 400:
            assert set(response.json()) >= {"status_code", "code", "detail"}


async def test_another_organizations_analytics_reveal_nothing(
    analytics_client: AsyncTestClient, seeded: World
) -> None:
    for path in (f"/orgs/{seeded.org}/analytics", f"/orgs/{seeded.org}/analytics/unanswered"):
        response = await analytics_client.get(API + path, headers=seeded.other_owner.auth, params=PERIOD)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_date_range_rules() -> None:
    today = date(2026, 3, 10)
    assert DateRange.parse(None, None, today) == DateRange(date(2026, 2, 9), today)
    assert DateRange.parse("2026-03-01", None, today) == DateRange(date(2026, 3, 1), today)
    assert DateRange.parse("2026-04-01", None, today) == DateRange(date(2026, 4, 1), date(2026, 4, 1))
    assert DateRange.parse(None, "2026-01-30", today) == DateRange(date(2026, 1, 1), date(2026, 1, 30))
    period = DateRange.parse("2026-03-01", "2026-03-01", today)
    assert period.starts_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert period.ends_before == datetime(2026, 3, 2, tzinfo=UTC)
    assert DateRange(date(2025, 1, 1), date(2026, 1, 1)).days == 366
    with pytest.raises(InvalidInput):
        DateRange(date(2025, 1, 1), date(2026, 1, 2))
    with pytest.raises(InvalidInput):
        DateRange.parse("2026-03-02", "2026-03-01", today)
    with pytest.raises(InvalidInput):
        DateRange.parse("2026-3-1", None, today)


async def test_routes_are_in_the_openapi_schema(analytics_client: AsyncTestClient) -> None:
    response = await analytics_client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/analytics" in paths
    parameters = {p["name"] for p in paths["/api/v1/analytics"]["get"]["parameters"]}
    assert parameters == {"from", "to"}
    assert "/api/v1/orgs/{org_id}/analytics" in paths
    assert "/api/v1/orgs/{org_id}/analytics/unanswered" in paths
