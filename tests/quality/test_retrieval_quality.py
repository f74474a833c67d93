"""Retrieval quality on a small bilingual test set: hit@1 and hit@3 of vector search alone, full-text
search alone and the production hybrid search, plus the score distribution of answerable and
unanswerable questions (to choose the default ``min_score``).

The figures are printed (also without ``-s``); only a sane floor for hybrid search is asserted, so that
a real regression fails the test while the exact numbers stay free to move."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from uuid import UUID

import pytest
from pgvector.sqlalchemy import Vector
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kalamna.adapters.postgres.chunk_index import ensure_vector_index, or_query
from kalamna.application.knowledge.ingestion import Outcome
from kalamna.application.knowledge.retrieval import SearchKnowledge
from kalamna.di import make_container
from kalamna.domain.text import normalize_for_search
from kalamna.ports.ai import Embedder
from tests.integration.test_ingestion import PostgresBackend, add_entry, add_organization, run_ingest
from tests.quality.dataset import (
    CLINIC_AR,
    CLINIC_AR_QUESTIONS,
    CLINIC_AR_UNANSWERABLE,
    CROSS_TO_AR,
    CROSS_TO_EN,
    SHOP_EN,
    SHOP_EN_QUESTIONS,
    SHOP_EN_UNANSWERABLE,
    Question,
)

pytestmark = pytest.mark.slow

MODES = ("vector", "full-text", "hybrid", "by-score")
HYBRID_HIT3_FLOOR = 0.7


@dataclass
class Tally:
    questions: int = 0
    hit1: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MODES, 0))
    hit3: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MODES, 0))
    misses: list[str] = field(default_factory=list)

    def rate(self, k: int, mode: str) -> float:
        return (self.hit1 if k == 1 else self.hit3)[mode] / max(1, self.questions)


def distinct(ids: list[UUID]) -> list[UUID]:
    return list(dict.fromkeys(ids))


async def vector_only(
    session: AsyncSession, org: UUID, vector: list[float], model: str, d: int
) -> list[UUID]:
    rows = await session.execute(
        text(
            f"SELECT entry_id FROM knowledge_chunks WHERE organization_id = :org AND embedding_model = :model "
            f"ORDER BY embedding::vector({d}) <=> CAST(:q AS vector({d})) LIMIT 20"
        ).bindparams(bindparam("q", type_=Vector(d))),
        {"org": org, "model": model, "q": vector},
    )
    return distinct([r.entry_id for r in rows])


async def full_text_only(session: AsyncSession, org: UUID, question: str) -> list[UUID]:
    tsquery = or_query(normalize_for_search(question))
    if not tsquery:
        return []
    rows = await session.execute(
        text(
            "SELECT entry_id, ts_rank_cd(search_vector, to_tsquery('simple', :q), 32) AS rank "
            "FROM knowledge_chunks WHERE organization_id = :org AND search_vector @@ to_tsquery('simple', :q) "
            "ORDER BY rank DESC LIMIT 20"
        ),
        {"org": org, "q": tsquery},
    )
    return distinct([r.entry_id for r in rows])


def spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    quartiles = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
    return (
        f"min {ordered[0]:.3f}  p25 {quartiles[0]:.3f}  median {quartiles[1]:.3f}  "
        f"p75 {quartiles[2]:.3f}  max {ordered[-1]:.3f}  (n={len(ordered)})"
    )


async def test_retrieval_quality_of_vector_full_text_and_hybrid_search(  # type: ignore[no-untyped-def]
    settings, clean_state, capsys: pytest.CaptureFixture[str]
) -> None:
    container = make_container(settings)
    try:
        embedder = await container.get(Embedder)
        await ensure_vector_index(await container.get(AsyncEngine), embedder.model, embedder.dimensions)
        backend = PostgresBackend(container)
        ids: dict[str, dict[str, UUID]] = {}
        orgs: dict[str, UUID] = {}
        for name, kb in (("en", SHOP_EN), ("ar", CLINIC_AR)):
            orgs[name] = backend.organization_id = await add_organization(container, f"quality {name}")
            ids[name] = {}
            for key, (title, body) in kb.items():
                entry = await add_entry(backend, title, body)
                assert await run_ingest(backend, entry.id, 1) is Outcome.DONE
                ids[name][key] = entry.id

        suites: list[tuple[str, str, list[Question]]] = [
            ("English", "en", SHOP_EN_QUESTIONS),
            ("Arabic", "ar", CLINIC_AR_QUESTIONS),
            ("Cross-lingual", "ar", CROSS_TO_AR),
            ("Cross-lingual", "en", CROSS_TO_EN),
        ]
        tallies: dict[str, Tally] = {}
        relevant_scores: list[float] = []  # hybrid score of the right entry when it is in the top 3
        top_of_answerable: list[float] = []
        top_of_unanswerable: list[float] = []
        async with container() as scope:
            session = await scope.get(AsyncSession)
            search = await scope.get(SearchKnowledge)
            for suite, kb_name, questions in suites:
                tally = tallies.setdefault(suite, Tally())
                for question in questions:
                    assert question.answer is not None
                    org, expected = orgs[kb_name], ids[kb_name][question.answer]
                    vector = await embedder.embed_query(question.text)
                    hits = await search(org, question.text, 10)
                    ranked: dict[str, list[UUID]] = {
                        "vector": await vector_only(
                            session, org, vector, embedder.model, embedder.dimensions
                        ),
                        "full-text": await full_text_only(session, org, question.text),
                        "hybrid": distinct([h.entry_id for h in hits]),
                        # An alternative for comparison only: the same hits ordered by their score.
                        "by-score": distinct([h.entry_id for h in sorted(hits, key=lambda h: -h.score)]),
                    }
                    tally.questions += 1
                    for mode, order in ranked.items():
                        tally.hit1[mode] += int(order[:1] == [expected])
                        tally.hit3[mode] += int(expected in order[:3])
                    if ranked["hybrid"][:1] != [expected]:
                        tally.misses.append(question.text)
                    if hits:
                        top_of_answerable.append(hits[0].score)
                    relevant_scores += [h.score for h in hits[:3] if h.entry_id == expected][:1]
            for kb_name, questions in (("en", SHOP_EN_UNANSWERABLE), ("ar", CLINIC_AR_UNANSWERABLE)):
                for question in questions:
                    hits = await search(orgs[kb_name], question.text, 10)
                    top_of_unanswerable.append(hits[0].score if hits else 0.0)
            await session.rollback()
    finally:
        await container.close()

    total = Tally()
    for tally in tallies.values():
        total.questions += tally.questions
        for mode in MODES:
            total.hit1[mode] += tally.hit1[mode]
            total.hit3[mode] += tally.hit3[mode]
    lines = [
        "",
        f"Retrieval quality ({embedder.model}; hit@k over distinct entries; "
        "by-score = the hybrid candidates ordered by score instead of RRF, for comparison)",
        f"{'set':<15}{'n':>4}  " + "  ".join(f"{m + ' @1':>14}{m + ' @3':>14}" for m in MODES),
    ]
    for name, tally in [*tallies.items(), ("All", total)]:
        lines.append(
            f"{name:<15}{tally.questions:>4}  "
            + "  ".join(f"{tally.rate(1, m):>14.2f}{tally.rate(3, m):>14.2f}" for m in MODES)
        )
    lines += [
        "Hybrid score of the right entry (answerable): " + spread(relevant_scores),
        "Hybrid top score, answerable questions:       " + spread(top_of_answerable),
        "Hybrid top score, unanswerable questions:     " + spread(top_of_unanswerable),
        "min_score  kept(answerable right hit)  rejected(unanswerable)",
    ]
    for threshold in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4):
        kept = sum(s >= threshold for s in relevant_scores) / max(1, len(relevant_scores))
        rejected = sum(s < threshold for s in top_of_unanswerable) / max(1, len(top_of_unanswerable))
        lines.append(f"{threshold:>9.2f}  {kept:>26.2f}  {rejected:>22.2f}")
    for name, tally in tallies.items():
        lines += [f"hybrid miss@1 ({name}): {q}" for q in tally.misses]
    with capsys.disabled():
        print("\n".join(lines))

    for name in ("English", "Arabic"):
        assert tallies[name].rate(3, "hybrid") >= HYBRID_HIT3_FLOOR, (name, tallies[name])
    assert total.rate(3, "hybrid") >= HYBRID_HIT3_FLOOR, total
    assert total.rate(1, "hybrid") >= 0.5, total
    assert all(0.0 <= s <= 1.0 for s in top_of_answerable + top_of_unanswerable)
