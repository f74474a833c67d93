"""Answer quality end to end, as a business would see it: two mixed-language knowledge bases ingested
through the real extractors (HTML with page furniture, DOCX, PDF incl. Arabic), the real chunker, the
offline embedder and the embedded PostgreSQL; every question goes through the widget's answering
pipeline (``PrepareAnswer`` → ``ProduceReply`` streamed → ``SaveReply``) with the offline extractive
answerer and the default bot configuration. Follow-ups are asked in the session of their previous
question.

Per category it prints hit@1 / hit@3 (the answering pipeline's sources, best first), whether the
reply carries the key fact, and the fallback rate; it asserts the targets (``TARGETS``), zero empty
replies, streamed text equal to the stored reply, and no other tenant's entry among the sources."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import pytest
from dishka import AsyncContainer
from pgvector.sqlalchemy import Vector
from sqlalchemy import bindparam
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kalamna.adapters.postgres.chunk_index import ensure_vector_index
from kalamna.application.chat.answering import PrepareAnswer, ProducedReply, ProduceReply, SaveReply
from kalamna.application.knowledge.ingestion import IngestEntry, Outcome
from kalamna.di import make_container
from kalamna.domain.bot_config import DEFAULT_FALLBACK, BotConfig
from kalamna.domain.chat import ChatSession, ReplyOutcome, SessionStatus
from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import EntryStatus, KnowledgeEntry, SourceType
from kalamna.domain.text import normalize_for_search
from kalamna.ports.ai import Embedder
from kalamna.ports.chat import ChatRepository
from kalamna.ports.knowledge import BlobStore, KnowledgeRepository
from kalamna.ports.repositories import UnitOfWork
from tests.integration.test_ingestion import add_organization
from tests.quality.answer_data import (
    CLINIC,
    CLINIC_QUESTIONS,
    FURNITURE_AR,
    FURNITURE_EN,
    SHOP,
    SHOP_QUESTIONS,
    Entry,
    Q,
)
from tests.quality.documents import ARABIC, docx_file, html_page, pdf_file

pytestmark = pytest.mark.slow

CATEGORIES = ("EN", "AR", "dialect", "EN→AR", "AR→EN", "typos", "arabizi", "follow-up", "unanswerable")
CROSS = ("EN→AR", "AR→EN")
# The targets for the offline defaults; see docs/chat.md for the measured figures.
TARGETS = {
    "hit1_overall": 0.85,
    "hit1_cross": 0.75,
    "fact_answerable": 0.75,
    "fallback_unanswerable": 0.8,
    "fallback_answerable_max": 0.1,
}


@dataclass
class Result:
    question: Q
    kb: str
    sources: list[UUID]
    reply: str
    outcome: ReplyOutcome
    vector_only: list[UUID]  # the same question by vector similarity alone (for comparison)


def _memoize_query_embeddings(embedder: Embedder) -> None:
    """The vector-only comparison embeds each question once more: reuse the pipeline's vector."""
    original = embedder.embed_query
    cache: dict[str, list[float]] = {}

    async def embed_query(text: str) -> list[float]:
        if text not in cache:
            cache[text] = await original(text)
        return cache[text]

    embedder.embed_query = embed_query  # type: ignore[method-assign]


async def _vector_only(container: AsyncContainer, organization_id: UUID, text: str) -> list[UUID]:
    embedder = await container.get(Embedder)
    vector = await embedder.embed_query(text)
    d = embedder.dimensions
    async with container() as scope:
        session = await scope.get(AsyncSession)
        rows = await session.execute(
            sql(
                f"SELECT entry_id FROM knowledge_chunks WHERE organization_id = :org AND embedding_model = :m "
                f"ORDER BY embedding::vector({d}) <=> CAST(:q AS vector({d})) LIMIT 20"
            ).bindparams(bindparam("q", type_=Vector(d))),
            {"org": organization_id, "m": embedder.model, "q": vector},
        )
        await session.rollback()
    return list(dict.fromkeys(row.entry_id for row in rows))


async def _ingest(
    container: AsyncContainer, organization_id: UUID, kb: list[Entry], furniture: dict[str, tuple[str, str]]
) -> dict[str, UUID]:
    ids: dict[str, UUID] = {}
    for item in kb:
        now = datetime.now(UTC)
        entry = KnowledgeEntry(
            id=new_id(),
            organization_id=organization_id,
            title=item.title,
            source_type=SourceType.TEXT if item.kind == "text" else SourceType.FILE,
            status=EntryStatus.PENDING,
            version=1,
            created_at=now,
            updated_at=now,
        )
        async with container() as scope:
            if item.kind == "text":
                entry.content = item.body
                entry.content_type = "text/plain"
            else:
                lang = "ar" if ARABIC.search(item.body) else "en"
                if item.kind == "html":
                    data = html_page(item.title, item.body, furniture[lang])
                elif item.kind == "docx":
                    data = docx_file(item.body)
                else:
                    data = pdf_file(item.body)
                entry.filename = f"{item.key}.{item.kind}"
                entry.blob_key = f"{organization_id}/{entry.id}"
                entry.size_bytes = len(data)
                await (await scope.get(BlobStore)).put(entry.blob_key, data)
            await (await scope.get(KnowledgeRepository)).add(entry)
            await (await scope.get(UnitOfWork)).commit()
        async with container() as scope:
            assert await (await scope.get(IngestEntry))(entry.id, 1) is Outcome.DONE, item.key
        ids[item.key] = entry.id
    return ids


async def _ask(
    container: AsyncContainer, session: ChatSession, config: BotConfig, text: str
) -> tuple[list[UUID], ProducedReply, str]:
    async with container() as scope:
        prepare = await scope.get(PrepareAnswer)
        plan = await prepare(session, config, text)
        produce = await scope.get(ProduceReply)
        streamed, result = "", None
        async for item in produce(plan):
            if isinstance(item, ProducedReply):
                result = item
            else:
                streamed += item
        assert result is not None
        await (await scope.get(SaveReply))(plan, result)
    return [s.entry_id for s in plan.sources], result, streamed


async def _new_session(container: AsyncContainer, organization_id: UUID) -> ChatSession:
    now = datetime.now(UTC)
    session = ChatSession(new_id(), organization_id, new_id().hex, SessionStatus.OPEN, now, now)
    async with container() as scope:
        await (await scope.get(ChatRepository)).add_session(session)
        await (await scope.get(UnitOfWork)).commit()
    return session


def _has_fact(reply: str, facts: tuple[str, ...]) -> bool:
    folded = normalize_for_search(reply)
    return any(normalize_for_search(fact) in folded for fact in facts)


def is_fallback(result: Result) -> bool:
    """The customer was given the fallback message (an empty reply is not a fallback)."""
    return result.outcome is ReplyOutcome.FALLBACK and result.reply.strip().endswith(DEFAULT_FALLBACK)


def _rate(values: list[bool]) -> float:
    return sum(values) / len(values) if values else float("nan")


def table(results: list[Result], ids: dict[str, dict[str, UUID]]) -> tuple[list[str], dict[str, float]]:
    by_category: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_category[result.question.category].append(result)
    lines = [
        f"{'category':<14}{'n':>4}{'hit@1':>8}{'hit@3':>8}{'fact':>8}{'fallback':>10}{'vec@1':>8}{'vec@3':>8}"
    ]
    answerable = [r for r in results if r.question.answer is not None]

    def row(name: str, group: list[Result]) -> None:
        answer = [r for r in group if r.question.answer is not None]
        hit1 = [r.sources[:1] == [ids[r.kb][r.question.answer]] for r in answer if r.question.answer]
        hit3 = [ids[r.kb][r.question.answer] in r.sources[:3] for r in answer if r.question.answer]
        fact = [_has_fact(r.reply, r.question.fact) for r in answer]
        fallback = [is_fallback(r) for r in group]
        vec1 = [r.vector_only[:1] == [ids[r.kb][r.question.answer]] for r in answer if r.question.answer]
        vec3 = [ids[r.kb][r.question.answer] in r.vector_only[:3] for r in answer if r.question.answer]
        cells = [_rate(hit1), _rate(hit3), _rate(fact), _rate(fallback), _rate(vec1), _rate(vec3)]
        lines.append(
            f"{name:<14}{len(group):>4}"
            + "".join(f"{c:>8.2f}" for c in cells[:3])
            + f"{cells[3]:>10.2f}"
            + "".join(f"{c:>8.2f}" for c in cells[4:])
        )

    for category in CATEGORIES:
        row(category, by_category[category])
    row("answerable", answerable)
    unanswerable = by_category["unanswerable"]
    cross = [r for r in results if r.question.category in CROSS]
    figures = {
        "hit1_overall": _rate(
            [r.sources[:1] == [ids[r.kb][r.question.answer]] for r in answerable if r.question.answer]
        ),
        "hit1_cross": _rate(
            [r.sources[:1] == [ids[r.kb][r.question.answer]] for r in cross if r.question.answer]
        ),
        "fact_answerable": _rate([_has_fact(r.reply, r.question.fact) for r in answerable]),
        "fallback_unanswerable": _rate([is_fallback(r) for r in unanswerable]),
        "fallback_answerable_max": _rate([is_fallback(r) for r in answerable]),
        "vector_only_hit1": _rate(
            [r.vector_only[:1] == [ids[r.kb][r.question.answer]] for r in answerable if r.question.answer]
        ),
    }
    return lines, figures


async def test_answer_quality_on_two_mixed_language_knowledge_bases(  # type: ignore[no-untyped-def]
    settings, clean_state, capsys: pytest.CaptureFixture[str]
) -> None:
    container = make_container(settings)
    try:
        embedder = await container.get(Embedder)
        _memoize_query_embeddings(embedder)
        await ensure_vector_index(await container.get(AsyncEngine), embedder.model, embedder.dimensions)
        started = time.perf_counter()
        orgs = {
            "shop": await add_organization(container, "Nile Electronics"),
            "clinic": await add_organization(container, "Shifa Clinic"),
        }
        ids = {
            "shop": await _ingest(container, orgs["shop"], SHOP, {"en": FURNITURE_EN, "ar": FURNITURE_AR}),
            "clinic": await _ingest(
                container, orgs["clinic"], CLINIC, {"en": FURNITURE_EN, "ar": FURNITURE_AR}
            ),
        }
        ingested = time.perf_counter()
        results: list[Result] = []
        for kb, questions in (("shop", SHOP_QUESTIONS), ("clinic", CLINIC_QUESTIONS)):
            for question in questions:
                config = BotConfig(organization_id=orgs[kb], updated_at=datetime.now(UTC))
                session = await _new_session(container, orgs[kb])
                if question.previous:
                    await _ask(container, session, config, question.previous)
                sources, reply, streamed = await _ask(container, session, config, question.text)
                assert streamed == reply.text, question.text  # what the customer saw is what is stored
                other = "clinic" if kb == "shop" else "shop"
                assert not set(sources) & set(ids[other].values()), question.text  # no other tenant's text
                vector = await _vector_only(container, orgs[kb], question.text)
                results.append(Result(question, kb, sources, reply.text, reply.outcome, vector))
        asked = time.perf_counter()
    finally:
        await container.close()

    lines, figures = table(results, ids)
    misses = [
        f"  [{r.question.category}] {r.question.text!r} -> {r.outcome.value}: {r.reply[:110]!r}"
        for r in results
        if (r.question.answer is None) != is_fallback(r)
        or (r.question.answer is not None and not _has_fact(r.reply, r.question.fact))
    ]
    with capsys.disabled():
        print("\n\nAnswer quality (offline defaults)\n" + "\n".join(lines))
        print("  " + "  ".join(f"{k} {v:.2f}" for k, v in figures.items()))
        print(f"  ingestion {ingested - started:.1f} s, {len(results)} questions {asked - ingested:.1f} s")
        print("Wrong replies:\n" + "\n".join(misses))

    assert len(results) >= 150
    assert not [r.question.text for r in results if not r.reply.strip()], "empty replies"
    assert figures["hit1_overall"] >= TARGETS["hit1_overall"], figures
    assert figures["hit1_overall"] > figures["vector_only_hit1"], figures  # the hybrid earns its keep
    assert figures["hit1_cross"] >= TARGETS["hit1_cross"], figures
    assert figures["fact_answerable"] >= TARGETS["fact_answerable"], figures
    assert figures["fallback_unanswerable"] >= TARGETS["fallback_unanswerable"], figures
    assert figures["fallback_answerable_max"] <= TARGETS["fallback_answerable_max"], figures
