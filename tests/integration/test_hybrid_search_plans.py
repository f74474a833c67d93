"""``PgChunkIndex.search`` on the real PostgreSQL + pgvector with the per-size vector plan wired in
(``search_strategy``) and the selective full-text pre-filter (``term_stats``): the exact and the HNSW
paths return the same chunks on a small tenant, the plan switches at the threshold, and a question
made of the tenant's common words plus one rare word scores only the rows with the rare word."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import numpy as np
import pytest
from pgvector.asyncpg import register_vector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from kalamna.adapters.postgres.chunk_index import PgChunkIndex, ensure_vector_index
from kalamna.adapters.postgres.search_strategy import (
    EXACT,
    EXACT_MAX_CHUNKS,
    HNSW,
    TenantSizes,
    plan_for,
)
from kalamna.adapters.postgres.term_stats import MIN_CHUNKS, TermShares

DIM = 8
MODEL = "plans-test"


async def add_tenant(
    dsn: str, texts: list[str], seed: int, model: str = MODEL
) -> tuple[uuid.UUID, list[uuid.UUID], np.ndarray]:
    """An organization with one entry and a chunk per text (random unit vectors of ``DIM``), analysed."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(texts), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    org, entry, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    ids = [uuid.uuid4() for _ in texts]
    conn = await asyncpg.connect(dsn)
    try:
        await register_vector(conn)
        await conn.execute(
            "INSERT INTO organizations (id, name, status, created_at, updated_at) VALUES ($1, 'o', 'active', $2, $2)",
            org,
            now,
        )
        await conn.execute(
            "INSERT INTO knowledge_entries (id, organization_id, title, source_type, status, version, content, "
            "chunk_count, token_count, created_at, updated_at) VALUES ($1, $2, 't', 'text', 'ready', 1, '', 0, 0, $3, $3)",
            entry,
            org,
            now,
        )
        await conn.copy_records_to_table(
            "knowledge_chunks",
            records=[
                (ids[i], org, entry, i, t, 1, t, vectors[i], model, now, now) for i, t in enumerate(texts)
            ],
            columns=[
                "id", "organization_id", "entry_id", "position", "content", "token_count", "search_text",
                "embedding", "embedding_model", "created_at", "updated_at",
            ],
        )  # fmt: skip
        await conn.execute("ANALYZE knowledge_chunks")
    finally:
        await conn.close()
    return org, ids, vectors


class FixedSizes(TenantSizes):
    """Tenant sizes as if the tenant held ``count`` chunks of a ``total``-row table."""

    def __init__(self, count: int, total: int | None) -> None:
        super().__init__()
        self._fixed = (count, total)

    async def count(self, session: AsyncSession, organization_id: uuid.UUID, model: str) -> int:
        return self._fixed[0]

    async def total(self, session: AsyncSession) -> int | None:
        return self._fixed[1]


@pytest.fixture
async def engine(services, clean_state) -> AsyncIterator[AsyncEngine]:  # type: ignore[no-untyped-def]
    engine = create_async_engine(services.database_url)
    yield engine
    await engine.dispose()


def dsn_of(services: Any) -> str:
    return str(services.database_url).replace("postgresql+asyncpg://", "postgresql://")


async def search(
    engine: AsyncEngine,
    index_args: dict[str, Any],
    org: uuid.UUID,
    query: list[float],
    query_text: str = "",
    top_k: int = 10,
) -> tuple[list[Any], list[tuple[str, Any]]]:
    """The hits, and the statements sent (to see which plan and pre-filter were used)."""
    sent: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    try:
        async with async_sessionmaker(engine)() as session:
            hits = await PgChunkIndex(session, DIM, **index_args).search(
                org, query_vector=query, query_text=query_text, model=MODEL, top_k=top_k, similarity_floor=0.0
            )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", grab)
    return hits, sent


def main_statement(sent: list[tuple[str, Any]]) -> tuple[str, Any]:
    return next((s, p) for s, p in sent if "WITH vec AS" in s)


def test_the_plan_switches_at_the_threshold() -> None:
    assert plan_for(EXACT_MAX_CHUNKS, 1_000_000) is EXACT
    assert plan_for(EXACT_MAX_CHUNKS + 1, 1_000_000) is HNSW
    # a tenant that is most of a small table: the graph finds its rows at once
    assert plan_for(900, 3_000) is EXACT and plan_for(1_000, 3_000) is HNSW
    # table size unknown (never analysed): as if the tenant were alone
    assert plan_for(300, None) is EXACT and plan_for(301, None) is HNSW
    assert plan_for(0, None) is EXACT


async def test_exact_and_hnsw_paths_agree_on_a_small_tenant(services, engine: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    dsn = dsn_of(services)
    org, ids, vectors = await add_tenant(dsn, [f"chunk {i}" for i in range(300)], seed=1)
    await add_tenant(dsn, [f"other {i}" for i in range(500)], seed=2)  # never returned
    await ensure_vector_index(engine, MODEL, DIM)
    query = vectors[17] + 0.1 * vectors[3]
    query = query / np.linalg.norm(query)
    expected = [ids[i] for i in np.argsort(-(vectors @ query))[:10]]

    exact_hits, exact_sent = await search(engine, {"sizes": FixedSizes(300, 800)}, org, query.tolist())
    hnsw_hits, hnsw_sent = await search(engine, {"sizes": FixedSizes(10**6, 10**7)}, org, query.tolist())

    assert [h.chunk_id for h in exact_hits] == expected
    assert [h.chunk_id for h in hnsw_hits] == expected
    exact_sql, _ = main_statement(exact_sent)
    hnsw_sql, _ = main_statement(hnsw_sent)
    assert ") + 0" in exact_sql and ") + 0" not in hnsw_sql


async def test_the_cached_sizes_choose_the_plan(services, engine: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    dsn = dsn_of(services)
    small, _, small_vectors = await add_tenant(dsn, [f"chunk {i}" for i in range(40)], seed=3)
    big, _, big_vectors = await add_tenant(dsn, [f"chunk {i}" for i in range(400)], seed=4)
    await ensure_vector_index(engine, MODEL, DIM)
    sizes = TenantSizes(ttl_s=3600)
    async with async_sessionmaker(engine)() as session:
        assert await sizes.total(session) == 440  # reltuples after ANALYZE
        assert await sizes.plan(session, small, MODEL) is EXACT  # 40² <= 300 x 440
        assert await sizes.plan(session, big, MODEL) is HNSW  # 400² > 300 x 440
    _, sent = await search(engine, {"sizes": sizes}, small, small_vectors[0].tolist())
    assert ") + 0" in main_statement(sent)[0]
    _, sent = await search(engine, {"sizes": sizes}, big, big_vectors[0].tolist())
    assert ") + 0" not in main_statement(sent)[0]


async def test_common_words_leave_the_prefilter_and_only_rare_rows_are_scored(
    services, engine: AsyncEngine
) -> None:  # type: ignore[no-untyped-def]
    dsn = dsn_of(services)
    size = MIN_CHUNKS + 100
    texts = [f"velvet lantern filler{i}" for i in range(size)]
    texts[123] = "velvet lantern zircon filler123"
    org, ids, _ = await add_tenant(dsn, texts, seed=5)
    await add_tenant(dsn, ["velvet lantern zircon"] * 20, seed=6)
    terms = TermShares()
    async with async_sessionmaker(engine)() as session:
        shares = await terms.shares(session, org)
    assert shares["velvet"] == shares["lantern"] == 1.0
    assert "zircon" not in shares  # rare: in 1 of 600 chunks (kept from 2 %)

    probe = np.zeros(DIM, dtype=np.float32)
    probe[0] = 1.0
    hits, sent = await search(
        engine, {"terms": terms}, org, probe.tolist(), query_text="velvet lantern zircon", top_k=50
    )
    found = {h.chunk_id: h for h in hits}
    assert ids[123] in found and found[ids[123]].keyword == 1.0  # all three word groups
    statement, parameters = main_statement(sent)
    # "any pair" of three groups: the common "lantern" leaves, then a pair of what is left is needed
    assert "(('velvet') & ('zircon'))" in parameters  # the driver's positional parameters
    async with engine.connect() as conn:
        raw = (
            await conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
        ).scalar_one()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]

    def nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
        return [node, *(n for child in node.get("Plans", []) for n in nodes(child))]

    scored = [
        n["Actual Rows"]
        for n in nodes(plan)
        if n["Node Type"] in ("Seq Scan", "Bitmap Heap Scan", "Index Scan")
        and "search_vector @@"
        in " ".join(str(n.get(k, "")) for k in ("Filter", "Recheck Cond", "Index Cond"))
    ]
    assert scored == [1.0]  # without the statistics, the pre-filter ("any pair") keeps all 600 rows
    assert {h.chunk_id for h in hits} <= set(ids)  # the neighbour's "velvet lantern zircon" never
