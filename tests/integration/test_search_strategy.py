"""The per-tenant-size vector plans (``adapters/postgres/search_strategy.py``) on the real PostgreSQL +
pgvector: exact plans are exact and stay inside the tenant, tenant sizes are counted and cached."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import numpy as np
import pytest
from pgvector.sqlalchemy import Vector
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from kalamna.adapters.postgres.chunk_index import ensure_vector_index, vector_index_name
from kalamna.adapters.postgres.search_strategy import (
    EXACT,
    EXACT_MAX_CHUNKS,
    HNSW,
    TenantSizes,
    VectorPlan,
    plan_for,
)
from tests.integration.test_hybrid_search_plans import DIM
from tests.integration.test_hybrid_search_plans import add_tenant as add_chunks

MODEL = "strategy-test"


async def add_tenant(dsn: str, size: int, seed: int) -> tuple[uuid.UUID, dict[uuid.UUID, np.ndarray]]:
    org, ids, vectors = await add_chunks(dsn, ["c"] * size, seed, model=MODEL)
    return org, dict(zip(ids, vectors, strict=True))


@pytest.fixture
async def engine(services, clean_state) -> AsyncIterator[AsyncEngine]:  # type: ignore[no-untyped-def]
    engine = create_async_engine(services.database_url)
    yield engine
    await engine.dispose()


def candidate_sql(order_by: str) -> str:
    return (
        f"SELECT id FROM knowledge_chunks WHERE organization_id = :org AND embedding_model = :model "
        f"ORDER BY {order_by} LIMIT 10"
    )


def test_plans_by_tenant_size() -> None:
    assert plan_for(0) is EXACT and plan_for(EXACT_MAX_CHUNKS, 10**6) is EXACT
    assert plan_for(EXACT_MAX_CHUNKS + 1, 10**6) is HNSW and plan_for(10**7, 10**8) is HNSW
    assert EXACT.order_by("d") == "(d) + 0" and HNSW.order_by("d") == "d"
    assert "'hnsw.ef_search', '100'" in HNSW.settings_sql()


async def test_the_exact_plan_is_exact_and_stays_in_the_tenant(services, engine: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    dsn = services.database_url.replace("postgresql+asyncpg://", "postgresql://")
    mine, my_vectors = await add_tenant(dsn, 60, seed=1)
    await add_tenant(dsn, 200, seed=2)  # a neighbour whose chunks must never come back
    await ensure_vector_index(engine, MODEL, DIM)
    query = my_vectors[next(iter(my_vectors))] + 0.05
    expected = sorted(my_vectors, key=lambda i: -float(my_vectors[i] @ query / np.linalg.norm(query)))[:10]
    distance = f"(embedding::vector({DIM})) <=> CAST(:q AS vector({DIM}))"
    statement = text(candidate_sql(EXACT.order_by(distance))).bindparams(bindparam("q", type_=Vector(DIM)))
    params = {"q": query.tolist(), "org": mine, "model": MODEL}
    async with async_sessionmaker(engine)() as session:
        await session.execute(text(EXACT.settings_sql()))
        await session.execute(
            text("SET LOCAL enable_seqscan = off")
        )  # tempt the planner towards the HNSW index
        found = [row.id for row in (await session.execute(statement, params)).all()]
        plan = "\n".join(
            row[0]
            for row in await session.execute(
                text("EXPLAIN " + candidate_sql(EXACT.order_by(distance))).bindparams(
                    bindparam("q", type_=Vector(DIM))
                ),
                params,
            )
        )
    assert found == expected
    assert vector_index_name(MODEL, DIM) not in plan


async def test_hnsw_plan_settings_are_accepted(engine: AsyncEngine) -> None:
    async with async_sessionmaker(engine)() as session:
        await session.execute(
            text(VectorPlan("wide", exact=False, ef_search=400, max_scan_tuples=50_000).settings_sql())
        )
        values = (
            await session.execute(
                text("SELECT current_setting('hnsw.ef_search'), current_setting('hnsw.max_scan_tuples')")
            )
        ).one()
    assert tuple(values) == ("400", "50000")


async def test_tenant_sizes_are_counted_per_model_and_cached(services, engine: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    dsn = services.database_url.replace("postgresql+asyncpg://", "postgresql://")
    org, _ = await add_tenant(dsn, 25, seed=3)
    other, _ = await add_tenant(dsn, 7, seed=4)
    cached = TenantSizes(ttl_s=3600)
    fresh = TenantSizes(ttl_s=0)
    async with async_sessionmaker(engine)() as session:
        assert await cached.count(session, org, MODEL) == 25
        assert await cached.count(session, other, MODEL) == 7
        assert await cached.count(session, org, "another-model") == 0
        assert await cached.plan(session, org, MODEL) is EXACT
        await session.execute(text("DELETE FROM knowledge_chunks WHERE organization_id = :org"), {"org": org})
        assert await cached.count(session, org, MODEL) == 25  # within the TTL
        assert await fresh.count(session, org, MODEL) == 0
        await session.rollback()
