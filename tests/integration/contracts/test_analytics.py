"""The analytics figures (PostgreSQL aggregates / computed in memory) over the same conversations.

Conversations are written by the chat and conversation repositories in production; the in-memory
analytics read a ``ChatStore`` whose writes carry the same names. ``write`` seeds either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from dishka import AsyncContainer

from kalamna.adapters.memory.analytics import ChatStore, MemoryAnalyticsRepository
from kalamna.domain.analytics import (
    ChatFigures,
    DateRange,
    DayActivity,
    FeedbackSummary,
    HandoverFigures,
    KnowledgeCounts,
    OrganizationCounts,
    TokenUsage,
    UnansweredReason,
)
from kalamna.domain.chat import ChatMessage, ChatSession, Feedback, MessageRole, ReplyOutcome, SessionStatus
from kalamna.domain.identity import Organization, OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.pages import PageRequest
from kalamna.ports.analytics import AnalyticsRepository
from kalamna.ports.knowledge import ChunkIndex, KnowledgeRepository
from kalamna.ports.repositories import UnitOfWork
from tests.integration.contracts.conftest import employee, organization, read, seed
from tests.integration.contracts.test_knowledge import chunk, entry

PERIOD = DateRange(date(2026, 3, 1), date(2026, 3, 7))
START = datetime(2026, 3, 1, tzinfo=UTC)
BEFORE = START - timedelta(seconds=1)  # 28 February 23:59:59: outside
LAST_SECOND = datetime(2026, 3, 7, 23, 59, 59, tzinfo=UTC)  # inside
AFTER = datetime(2026, 3, 8, tzinfo=UTC)  # outside


@dataclass(frozen=True)
class StartHandover:
    session: ChatSession
    at: datetime
    question_id: UUID | None = None


@dataclass(frozen=True)
class FirstResponse:
    session: ChatSession
    at: datetime


Row = ChatSession | ChatMessage | Feedback | StartHandover | FirstResponse


async def write(container: AsyncContainer, *rows: Row) -> None:
    """Write conversation rows in order, in one committed unit of work."""
    async with container() as scope:
        if isinstance(await scope.get(AnalyticsRepository), MemoryAnalyticsRepository):
            store = await container.get(ChatStore)

            async def run(row: Row) -> None:
                if isinstance(row, ChatSession):
                    store.add_session(row)
                elif isinstance(row, ChatMessage):
                    store.add_message(row)
                elif isinstance(row, Feedback):
                    store.add_feedback(row)
                elif isinstance(row, StartHandover):
                    store.start_handover(
                        row.session.organization_id, row.session.id, "requested", row.question_id, row.at
                    )
                else:
                    store.first_response(row.session.id, row.at)
        else:
            from sqlalchemy.ext.asyncio import AsyncSession

            from kalamna.adapters.postgres.repositories.chat import SqlaChatRepository
            from kalamna.adapters.postgres.repositories.conversations import SqlaConversationRepository

            session = await scope.get(AsyncSession)
            chats, conversations = SqlaChatRepository(session), SqlaConversationRepository(session)

            async def run(row: Row) -> None:
                if isinstance(row, ChatSession):
                    await chats.add_session(row)
                elif isinstance(row, ChatMessage):
                    await chats.add_message(row)
                elif isinstance(row, Feedback):
                    await chats.add_feedback(row)
                elif isinstance(row, StartHandover):
                    await conversations.start_handover(
                        row.session.organization_id, row.session.id, "requested", row.question_id, row.at
                    )
                else:
                    await conversations.first_response(row.session.id, row.at)

        for row in rows:
            await run(row)
        await (await scope.get(UnitOfWork)).commit()


def chat(org: Organization, at: datetime) -> ChatSession:
    session_id = new_id()
    return ChatSession(session_id, org.id, f"h-{session_id}", SessionStatus.OPEN, at, at)


def message(
    session: ChatSession,
    at: datetime,
    role: MessageRole = MessageRole.USER,
    content: str = "Hello?",
    *,
    reply_to: ChatMessage | None = None,
    outcome: ReplyOutcome | None = None,
    latency_ms: int | None = None,
    tokens: tuple[int, int] = (0, 0),
) -> ChatMessage:
    return ChatMessage(
        new_id(),
        session.id,
        session.organization_id,
        role,
        content,
        at,
        reply_to=reply_to.id if reply_to else None,
        outcome=outcome,
        latency_ms=latency_ms,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
    )


def reply(
    question: ChatMessage,
    at: datetime,
    outcome: ReplyOutcome = ReplyOutcome.ANSWERED,
    *,
    latency_ms: int | None = None,
    tokens: tuple[int, int] = (0, 0),
) -> ChatMessage:
    return ChatMessage(
        new_id(),
        question.session_id,
        question.organization_id,
        MessageRole.ASSISTANT,
        f"re: {question.content}",
        at,
        reply_to=question.id,
        outcome=outcome,
        latency_ms=latency_ms,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
    )


def rating(of: ChatMessage, stars: int, at: datetime) -> Feedback:
    return Feedback(new_id(), of.session_id, of.organization_id, stars, at, message_id=of.id)


async def two_organizations(container: AsyncContainer) -> tuple[Organization, Organization]:
    acme, other = organization("Acme"), organization("Other")
    await seed(container, (acme, []), (other, []))
    return acme, other


async def test_nothing_happened(container: AsyncContainer) -> None:
    acme, _ = await two_organizations(container)
    repo = AnalyticsRepository
    empty = ChatFigures(0, 0, 0, None, None, 0, 0.0, FeedbackSummary(0, None), TokenUsage(0, 0))
    assert await read(container, repo, lambda r: r.chat_figures(PERIOD, acme.id)) == empty
    assert await read(container, repo, lambda r: r.chat_figures(PERIOD, None)) == empty
    assert await read(container, repo, lambda r: r.handover_figures(PERIOD, acme.id)) == HandoverFigures(
        0, 0.0, None, None
    )
    days = await read(container, repo, lambda r: r.by_day(PERIOD, acme.id))
    assert days == [DayActivity(date(2026, 3, d), 0, 0) for d in range(1, 8)]
    page = await read(container, repo, lambda r: r.unanswered(acme.id, PERIOD, PageRequest()))
    assert (page.items, page.total) == ([], 0)
    assert await read(container, repo, lambda r: r.organization_exists(acme.id)) is True
    assert await read(container, repo, lambda r: r.organization_exists(new_id())) is False


async def test_chat_figures_count_the_period_of_one_organization_or_the_platform(
    container: AsyncContainer,
) -> None:
    acme, other = await two_organizations(container)
    old, first, last, late = chat(acme, BEFORE), chat(acme, START), chat(acme, LAST_SECOND), chat(acme, AFTER)
    theirs = chat(other, START + timedelta(hours=1))
    rows: list[Row] = [old, first, last, late, theirs]
    replies = []
    for n, (latency, outcome) in enumerate(
        [
            (100, ReplyOutcome.ANSWERED),
            (200, ReplyOutcome.FALLBACK),
            (300, ReplyOutcome.ANSWERED),
            (400, ReplyOutcome.LLM_UNAVAILABLE),
            (1000, ReplyOutcome.ANSWERED),
        ]
    ):
        asked = message(first, START + timedelta(minutes=n), content=f"q{n}")
        replies.append(
            reply(asked, asked.created_at + timedelta(seconds=1), outcome, latency_ms=latency, tokens=(10, 2))
        )
        rows += [asked, replies[-1]]
    agent = message(first, START + timedelta(hours=2), MessageRole.AGENT, "A person here.")
    x = message(first, LAST_SECOND, content="x")
    no_latency = reply(x, LAST_SECOND, ReplyOutcome.INTERRUPTED)
    outside = message(old, BEFORE)
    their_question = message(theirs, START + timedelta(hours=1), content="theirs")
    rows += [agent, x, no_latency]
    rows += [
        outside,
        their_question,
        reply(
            their_question,
            START + timedelta(hours=1, seconds=2),
            ReplyOutcome.FALLBACK,
            latency_ms=50,
            tokens=(7, 1),
        ),
    ]
    rows += [
        rating(replies[0], 5, START),
        rating(replies[1], 2, START),
        rating(replies[2], 4, LAST_SECOND),
        rating(replies[3], 1, AFTER),
    ]
    await write(container, *rows)
    found = await read(container, AnalyticsRepository, lambda r: r.chat_figures(PERIOD, acme.id))
    # 5 questions + 5 replies + the agent's message + "x" + its interrupted reply = 13 (all roles count)
    assert found == ChatFigures(
        sessions=2,
        messages=13,
        replies=6,
        avg_reply_ms=400.0,
        p95_reply_ms=880.0,  # percentile_cont over 100, 200, 300, 400, 1000: 400 + 0.8 * 600
        fallbacks=2,
        fallback_rate=0.3333,
        feedback=FeedbackSummary(3, 3.67),
        tokens=TokenUsage(50, 10),
    )
    platform = await read(container, AnalyticsRepository, lambda r: r.chat_figures(PERIOD, None))
    assert (platform.sessions, platform.messages, platform.replies, platform.fallbacks) == (3, 15, 7, 3)
    assert (platform.avg_reply_ms, platform.tokens, platform.fallback_rate) == (
        round(2050 / 6, 1),
        TokenUsage(57, 11),
        0.4286,
    )


async def test_by_day_buckets_utc_days_and_includes_quiet_days(container: AsyncContainer) -> None:
    acme, other = await two_organizations(container)
    cairo = datetime(2026, 3, 3, 1, 30, tzinfo=UTC).astimezone(ZoneInfo("Africa/Cairo"))
    first, late_night = chat(acme, START), chat(acme, cairo)
    await write(
        container,
        first,
        late_night,
        chat(acme, BEFORE),
        chat(other, START),
        message(first, START),
        message(first, START + timedelta(hours=23, minutes=59)),
        message(late_night, cairo),  # 3 March 03:30 in Cairo is 3 March 01:30 UTC
        message(first, LAST_SECOND),
        message(first, AFTER),
    )
    days = await read(container, AnalyticsRepository, lambda r: r.by_day(PERIOD, acme.id))
    expected = {1: (1, 2), 3: (1, 1), 7: (0, 1)}
    assert days == [DayActivity(date(2026, 3, d), *expected.get(d, (0, 0))) for d in range(1, 8)]
    platform = await read(container, AnalyticsRepository, lambda r: r.by_day(PERIOD, None))
    assert platform[0] == DayActivity(date(2026, 3, 1), 2, 2)


async def test_handover_figures(container: AsyncContainer) -> None:
    acme, other = await two_organizations(container)
    a, b, c, d = (chat(acme, START + timedelta(hours=n)) for n in range(4))
    earlier = chat(acme, BEFORE - timedelta(hours=1))
    theirs = chat(other, START)
    at = START + timedelta(days=1)
    await write(
        container,
        a,
        b,
        c,
        d,
        earlier,
        theirs,
        StartHandover(a, at),
        FirstResponse(a, at + timedelta(seconds=30)),
        FirstResponse(a, at + timedelta(seconds=99)),  # only the first response counts
        StartHandover(b, at),
        FirstResponse(b, at + timedelta(seconds=90)),
        StartHandover(c, at),  # nobody answered yet
        StartHandover(earlier, BEFORE),  # requested before the period: not counted
        StartHandover(theirs, at),
        FirstResponse(theirs, at + timedelta(seconds=5)),
    )
    found = await read(container, AnalyticsRepository, lambda r: r.handover_figures(PERIOD, acme.id))
    assert found == HandoverFigures(count=3, rate=0.75, first_response_p50_s=60.0, first_response_p95_s=87.0)


async def test_platform_counts(container: AsyncContainer) -> None:
    acme, other = organization("Acme"), organization("Other")
    pending, suspended = organization("P"), organization("S")
    pending.status, suspended.status = OrganizationStatus.PENDING, OrganizationStatus.SUSPENDED
    root = employee(None, "root@k.test", Role.SUPERUSER)
    await seed(
        container,
        (acme, [employee(acme, "a@acme.test"), employee(acme, "b@acme.test", Role.STAFF), root]),
        (other, [employee(other, "c@other.test")]),
        (pending, []),
        (suspended, []),
    )
    entries = [entry(acme.id, "One"), entry(acme.id, "Two"), entry(other.id, "Three")]
    async with container() as scope:
        for item in entries:
            await (await scope.get(KnowledgeRepository)).add(item)
        await (await scope.get(ChunkIndex)).replace(entries[0], [chunk(0, "one a"), chunk(1, "one b")])
        await (await scope.get(ChunkIndex)).replace(entries[2], [chunk(0, "three")])
        await (await scope.get(UnitOfWork)).commit()
    repo = AnalyticsRepository
    assert await read(container, repo, lambda r: r.organization_counts()) == OrganizationCounts(4, 2, 1, 1)
    assert await read(container, repo, lambda r: r.employee_count()) == 3
    assert await read(container, repo, lambda r: r.knowledge_counts()) == KnowledgeCounts(3, 3)


async def test_unanswered_questions_newest_first_with_their_reason(container: AsyncContainer) -> None:
    acme, other = await two_organizations(container)
    s, t = chat(acme, BEFORE), chat(other, START)

    def asked(minute: int, text: str) -> ChatMessage:
        return message(s, START + timedelta(minutes=minute), content=text)

    answered, fallback, down, handed, low, fine, rated_fallback = (
        asked(n, text)
        for n, text in enumerate(["answered", "fallback", "down", "handed", "low", "fine", "rated"])
    )
    old_question = message(s, BEFORE, content="old")
    theirs = message(t, START, content="theirs")
    later = timedelta(seconds=1)
    r_low, r_fine, r_rated = (
        reply(low, low.created_at + later),
        reply(fine, fine.created_at + later),
        reply(rated_fallback, rated_fallback.created_at + later, ReplyOutcome.FALLBACK),
    )
    handover_notice = message(
        s,
        handed.created_at + later,
        MessageRole.SYSTEM,
        "Fetching a person.",
        reply_to=handed,
        outcome=ReplyOutcome.HANDOVER,
    )
    await write(
        container,
        s,
        t,
        answered,
        fallback,
        down,
        handed,
        low,
        fine,
        rated_fallback,
        old_question,
        theirs,
        reply(answered, answered.created_at + later),
        reply(fallback, fallback.created_at + later, ReplyOutcome.FALLBACK),
        reply(down, down.created_at + later, ReplyOutcome.LLM_UNAVAILABLE),
        handover_notice,
        r_low,
        r_fine,
        r_rated,
        reply(old_question, START, ReplyOutcome.FALLBACK),  # asked before the period
        reply(theirs, START + later, ReplyOutcome.FALLBACK),  # another organization
        rating(r_low, 4, START),
        rating(r_low, 2, AFTER),  # the lowest rating counts, whenever it was given
        rating(r_fine, 3, START),
        rating(r_rated, 1, START),
    )
    page = await read(container, AnalyticsRepository, lambda r: r.unanswered(acme.id, PERIOD, PageRequest()))
    assert [(q.question, q.reason, q.rating) for q in page.items] == [
        ("rated", UnansweredReason.FALLBACK, 1),
        ("low", UnansweredReason.LOW_RATING, 2),
        ("handed", UnansweredReason.HANDOVER, None),
        ("down", UnansweredReason.LLM_UNAVAILABLE, None),
        ("fallback", UnansweredReason.FALLBACK, None),
    ]
    assert page.total == 5
    first = page.items[0]
    assert (first.message_id, first.session_id, first.reply_id, first.reply, first.asked_at) == (
        rated_fallback.id,
        s.id,
        r_rated.id,
        "re: rated",
        rated_fallback.created_at,
    )
    second_page = await read(
        container, AnalyticsRepository, lambda r: r.unanswered(acme.id, PERIOD, PageRequest(2, 2))
    )
    assert ([q.question for q in second_page.items], second_page.total) == (["handed", "down"], 5)
    beyond = await read(
        container, AnalyticsRepository, lambda r: r.unanswered(acme.id, PERIOD, PageRequest(2, 5))
    )
    assert (beyond.items, beyond.total) == ([], 5)
    theirs_page = await read(
        container, AnalyticsRepository, lambda r: r.unanswered(other.id, PERIOD, PageRequest())
    )
    assert [q.question for q in theirs_page.items] == ["theirs"]
