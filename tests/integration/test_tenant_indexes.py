"""Per-tenant partial HNSW indexes on the real PostgreSQL + pgvector (``tenant_indexes``): built once for
a tenant above the threshold and never for a small one, an INVALID leftover replaced, skipped while
another process holds the build lock, used by that tenant's search (EXPLAIN names it) with the exact
top 10 and no other tenant's rows, and dropped when the organization is deleted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import numpy as np
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from kalamna.adapters.postgres.chunk_index import PgChunkIndex, ensure_vector_index
from kalamna.adapters.postgres.search_strategy import (
    OWN_INDEX,
    TENANT_INDEX_PREFIX,
    TenantIndexes,
    tenant_index_name,
)
from kalamna.adapters.postgres.tenant_indexes import maintain_tenant_indexes
from tests.integration.test_hybrid_search_plans import DIM, MODEL, add_tenant, dsn_of

pytestmark = pytest.mark.slow

THRESHOLD = 100


@pytest.fixture
async def engine(services, clean_state) -> AsyncIterator[AsyncEngine]:  # type: ignore[no-untyped-def]
    engine = create_async_engine(services.database_url)
    await ensure_vector_index(engine, MODEL, DIM)
    yield engine
    # Tenant indexes outlive the wiped rows: drop them so other tests plan as before.
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        names = (
            await auto.execute(
                text("SELECT indexname FROM pg_indexes WHERE starts_with(indexname, :p)"),
                {"p": TENANT_INDEX_PREFIX},
            )
        ).scalars()
        for name in list(names):
            await auto.execute(text(f"DROP INDEX IF EXISTS {name}"))
    await engine.dispose()


async def tenant_indexes(engine: AsyncEngine) -> dict[str, tuple[int, bool, str]]:
    """name -> (oid, valid, definition) of every per-tenant index."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT c.relname, c.oid, i.indisvalid, pg_get_indexdef(c.oid) AS definition FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE starts_with(c.relname, :p)"
            ),
            {"p": TENANT_INDEX_PREFIX},
        )
        return {r.relname: (int(r.oid), bool(r.indisvalid), str(r.definition)) for r in rows}


def texts(n: int) -> list[str]:
    return [f"chunk {i}" for i in range(n)]


async def test_built_once_for_a_tenant_above_the_threshold_and_never_for_a_small_one(
    services, engine
) -> None:  # type: ignore[no-untyped-def]
    big, _, _ = await add_tenant(dsn_of(services), texts(THRESHOLD + 1), seed=1)
    small, _, _ = await add_tenant(dsn_of(services), texts(THRESHOLD), seed=2)
    name = tenant_index_name(big, MODEL, DIM)

    first = await maintain_tenant_indexes(engine, MODEL, DIM, THRESHOLD)

    assert (first.built, first.rebuilt, first.dropped, first.failed, first.busy) == ([name], [], [], [], [])
    indexes = await tenant_indexes(engine)
    assert list(indexes) == [name]
    oid, valid, definition = indexes[name]
    assert valid is True
    assert (
        "USING hnsw (((embedding)::vector(8)) vector_cosine_ops) WITH (m='16', ef_construction='64')"
        in definition
    )
    assert (
        f"WHERE ((organization_id = '{big}'::uuid) AND ((embedding_model)::text = '{MODEL}'::text))"
        in definition
    )
    assert tenant_index_name(small, MODEL, DIM) not in indexes

    second = await maintain_tenant_indexes(engine, MODEL, DIM, THRESHOLD)

    assert (second.built, second.rebuilt, second.dropped, second.failed) == ([], [], [], [])
    assert await tenant_indexes(engine) == {name: (oid, True, definition)}
    off = await maintain_tenant_indexes(engine, MODEL, DIM, 0)  # 0: build none, keep the existing
    assert (off.built, off.dropped) == ([], [])
    assert list(await tenant_indexes(engine)) == [name]


async def test_an_invalid_leftover_is_dropped_and_rebuilt(services, engine) -> None:  # type: ignore[no-untyped-def]
    big, _, _ = await add_tenant(dsn_of(services), texts(THRESHOLD + 5), seed=3)
    name = tenant_index_name(big, MODEL, DIM)
    # A concurrent build that fails leaves an INVALID index under the name (here: duplicate keys).
    conn = await asyncpg.connect(dsn_of(services))
    try:
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON knowledge_chunks (entry_id)")
    finally:
        await conn.close()
    assert [(v[1], "USING hnsw" in v[2]) for v in (await tenant_indexes(engine)).values()] == [(False, False)]
    async with async_sessionmaker(engine)() as session:
        assert await TenantIndexes(ttl_s=0).names(session) == frozenset()

    report = await maintain_tenant_indexes(engine, MODEL, DIM, THRESHOLD)

    assert (report.built, report.rebuilt, report.failed) == ([], [name], [])
    indexes = await tenant_indexes(engine)
    assert list(indexes) == [name]
    assert indexes[name][1] is True
    assert "USING hnsw" in indexes[name][2]


async def test_no_build_while_another_process_holds_the_lock(services, engine) -> None:  # type: ignore[no-untyped-def]
    big, _, _ = await add_tenant(dsn_of(services), texts(THRESHOLD + 1), seed=4)
    name = tenant_index_name(big, MODEL, DIM)
    conn = await asyncpg.connect(dsn_of(services))
    try:
        await conn.fetchval("SELECT pg_advisory_lock(hashtextextended($1, 0))", f"kalamna:index:{name}")
        busy = await maintain_tenant_indexes(engine, MODEL, DIM, THRESHOLD)
        assert (busy.built, busy.busy) == ([], [name])
        assert await tenant_indexes(engine) == {}
        await conn.fetchval("SELECT pg_advisory_lock(hashtextextended($1, 0))", "kalamna:tenant-indexes")
        sweep = await maintain_tenant_indexes(engine, MODEL, DIM, THRESHOLD)
        assert (sweep.built, sweep.busy) == ([], ["kalamna:tenant-indexes"])
    finally:
        await conn.close()  # releases both locks
    done = await maintain_tenant_indexes(engine, MODEL, DIM, THRESHOLD)
    assert done.built == [name]


async def search_and_explain(
    engine: AsyncEngine, org: uuid.UUID, query: list[float], indexes: TenantIndexes
) -> tuple[list[uuid.UUID], str, str]:
    """The search's chunk ids, its SQL, and the EXPLAIN of that exact statement and parameters."""
    sent: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    try:
        async with async_sessionmaker(engine)() as session:
            hits = await PgChunkIndex(session, DIM, indexes=indexes).search(
                org, query_vector=query, query_text="", model=MODEL, top_k=10, similarity_floor=0.0
            )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", grab)
    statement, parameters = next((s, p) for s, p in sent if "WITH vec AS" in s)
    settings = next(s for s, _ in sent if "set_config('hnsw.iterative_scan'" in s)
    async with engine.connect() as conn:
        await conn.exec_driver_sql(settings)
        plan = "\n".join(r[0] for r in await conn.exec_driver_sql("EXPLAIN " + statement, parameters))
    return [h.chunk_id for h in hits], statement, plan


async def test_the_tenant_search_uses_its_index_with_the_exact_top_10_and_no_other_tenant(
    services, engine
) -> None:  # type: ignore[no-untyped-def]
    big, big_ids, vectors = await add_tenant(dsn_of(services), texts(2_000), seed=5)
    # Another tenant whose chunks are the big tenant's nearest neighbours (copies of its vectors).
    other, other_ids, _ = await add_tenant(dsn_of(services), texts(2_000), seed=5)
    small, small_ids, _ = await add_tenant(dsn_of(services), texts(50), seed=6)
    for seed in range(10, 18):  # below the threshold: the indexed tenants are 1/6 of the table each
        await add_tenant(dsn_of(services), texts(1_000), seed=seed)
    report = await maintain_tenant_indexes(engine, MODEL, DIM, 1_000)
    assert sorted(report.built) == sorted(
        [tenant_index_name(big, MODEL, DIM), tenant_index_name(other, MODEL, DIM)]
    )
    conn = await asyncpg.connect(dsn_of(services))
    try:
        await conn.execute("ANALYZE knowledge_chunks")
    finally:
        await conn.close()
    name = tenant_index_name(big, MODEL, DIM)
    rng = np.random.default_rng(9)
    for _ in range(3):
        query = vectors[int(rng.integers(len(vectors)))] + 0.05 * rng.standard_normal(DIM).astype(np.float32)
        exact = [big_ids[i] for i in np.argsort(-(vectors @ query / np.linalg.norm(query)))[:10]]

        ids, statement, plan = await search_and_explain(engine, big, query.tolist(), TenantIndexes(ttl_s=0))

        assert ids == exact
        assert f"c.organization_id = '{big}' AND c.embedding_model = '{MODEL}'" in statement
        assert f"Index Scan using {name} on knowledge_chunks" in plan, plan
        assert set(ids) <= set(big_ids) and not set(ids) & set(other_ids)
    # The small tenant has no index of its own: its plan, bound parameters, only its rows.
    ids, statement, plan = await search_and_explain(engine, small, query.tolist(), TenantIndexes(ttl_s=0))
    assert "c.organization_id = $" in statement
    assert TENANT_INDEX_PREFIX not in plan
    assert len(ids) == 10 and set(ids) <= set(small_ids)
    assert OWN_INDEX.exact is False


async def test_deleting_the_organization_drops_its_index(services, engine) -> None:  # type: ignore[no-untyped-def]
    big, _, _ = await add_tenant(dsn_of(services), texts(THRESHOLD + 1), seed=7)
    kept, _, _ = await add_tenant(dsn_of(services), texts(THRESHOLD + 1), seed=8)
    await maintain_tenant_indexes(engine, MODEL, DIM, THRESHOLD)
    assert len(await tenant_indexes(engine)) == 2
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM organizations WHERE id = :id"), {"id": big})

    report = await maintain_tenant_indexes(engine, MODEL, DIM, THRESHOLD)

    assert (report.built, report.dropped) == ([], [tenant_index_name(big, MODEL, DIM)])
    assert list(await tenant_indexes(engine)) == [tenant_index_name(kept, MODEL, DIM)]


async def test_the_worker_maintenance_task_builds_with_the_configured_model_and_threshold(
    services, settings, clean_state
) -> None:  # type: ignore[no-untyped-def]
    import msgspec
    from pgvector.asyncpg import register_vector

    from kalamna.di import make_container
    from kalamna.ports.ai import Embedder
    from kalamna.worker.maintenance import tenant_vector_indexes

    container = make_container(msgspec.structs.replace(settings, knowledge_tenant_index_min_chunks=20))
    try:
        embedder = await container.get(Embedder)
        model, dims = embedder.model, embedder.dimensions
        big, _, _ = await add_tenant(dsn_of(services), texts(1), seed=1)
        conn = await asyncpg.connect(dsn_of(services))
        try:
            await register_vector(conn)
            entry = await conn.fetchval("SELECT id FROM knowledge_entries WHERE organization_id = $1", big)
            vectors = np.random.default_rng(2).standard_normal((21, dims)).astype(np.float32)
            await conn.executemany(
                "INSERT INTO knowledge_chunks (id, organization_id, entry_id, position, content, token_count, "
                "search_text, embedding, embedding_model, created_at, updated_at) "
                "VALUES ($1, $2, $3, $4, 'c', 1, 'c', $5, $6, now(), now())",
                [(uuid.uuid4(), big, entry, i + 1, vectors[i], model) for i in range(21)],
            )
        finally:
            await conn.close()

        assert await tenant_vector_indexes({"container": container}) == {"built": 1, "dropped": 0}
        assert await tenant_vector_indexes({"container": container}) == {"built": 0, "dropped": 0}
        engine = create_async_engine(services.database_url)
        try:
            assert list(await tenant_indexes(engine)) == [tenant_index_name(big, model, dims)]
            async with engine.connect() as c:
                auto = await c.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text(f"DROP INDEX {tenant_index_name(big, model, dims)}"))
        finally:
            await engine.dispose()
    finally:
        await container.close()
