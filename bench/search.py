"""Knowledge search at scale: latency of the production hybrid search (``PgChunkIndex.search``) and
recall@10 of its HNSW vector path against exact search, for tenants of very different sizes sharing
one table and one index.

Run: `uv run python -m bench.search [--chunks 100000] [--queries 100]`.

Multi-tenant mode: `uv run python -m bench.search --zipf-orgs 1000 --chunks 1000000 [--zipf-s 1.0]` spreads
the corpus over that many organizations with Zipf-like sizes (the i-th largest holds ∝ 1/i^s), reports
build time, index and table size and PostgreSQL memory, then per tenant size class: latency of the
production hybrid search, recall@10 of its vector path against exact search, and the same for the
per-size vector plan of ``kalamna.adapters.postgres.search_strategy``; then QPS at saturation.

The corpus is synthetic: embedding 100k real chunks with the offline model would take about 20 hours
on this machine, so vectors are random 384-dimensional unit vectors drawn around per-tenant topic
centres (clustered like real embeddings, not uniform noise), and texts are random words. Latency and
recall depend on the index, the data layout and the tenant filter, which this reproduces; absolute
relevance is measured by tests/quality instead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pgvector.sqlalchemy import Vector
from sqlalchemy import bindparam, text

from bench._server import percentile
from kalamna.adapters.postgres.chunk_index import (
    CANDIDATES,
    EF_SEARCH,
    PgChunkIndex,
    ensure_vector_index,
    vector_index_name,
)
from kalamna.adapters.postgres.engine import make_engine, make_session_factory
from kalamna.adapters.postgres.migrations import upgrade_to_head
from kalamna.adapters.postgres.search_strategy import (
    EXACT,
    EXACT_MAX_CHUNKS,
    HNSW,
    OWN_INDEX,
    TENANT_INDEXES,
    TENANT_SIZES,
    VectorPlan,
    plan_for,
    tenant_index_predicate,
)
from kalamna.adapters.postgres.tenant_indexes import maintain_tenant_indexes
from kalamna.embedded import EmbeddedPostgres

DIM = 384
MODEL = "multilingual-e5-small-int4"
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64  # as created by ensure_vector_index


def tenant_sizes(total: int, rng: random.Random) -> dict[str, list[int]]:
    """One tenant with half the corpus, four medium ones, and hundreds of small ones (10–100)."""
    large = [total // 2]
    medium = [int(total * share) for share in (0.1, 0.075, 0.06, 0.05)]
    small: list[int] = []
    remaining = total - sum(large) - sum(medium)
    while remaining > 10:
        size = min(remaining, rng.randint(10, 100))
        small.append(size)
        remaining -= size
    return {"large": large, "medium": medium, "small": small}


def words(rng: random.Random, vocabulary: list[str], n: int) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(n))


SIZE_CLASSES = (
    ("<100", 0, 99),
    ("100-999", 100, 999),
    ("1k-9.9k", 1_000, 9_999),
    ("10k-99k", 10_000, 99_999),
)


def zipf_sizes(total: int, orgs: int, s: float) -> dict[str, list[int]]:
    """``orgs`` tenants, the i-th largest holding ∝ 1/i^s of ``total`` (at least 5 chunks each),
    grouped by absolute size class."""
    weights = [1 / (rank**s) for rank in range(1, orgs + 1)]
    scale = total / sum(weights)
    grouped: dict[str, list[int]] = {}
    for weight in weights:
        size = max(5, int(weight * scale))
        name = next((n for n, low, high in SIZE_CLASSES if low <= size <= high), ">=100k")
        grouped.setdefault(name, []).append(size)
    order = [n for n, _, _ in SIZE_CLASSES] + [">=100k"]
    return {name: grouped[name] for name in reversed(order) if name in grouped}


async def load_corpus(
    url: str, total: int, seed: int, sizes: dict[str, list[int]] | None = None
) -> dict[str, list[tuple[uuid.UUID, np.ndarray, list[str]]]]:
    """Insert organizations, entries and chunks (COPY, binary vectors); returns per size class the
    tenants with their vectors and texts, for drawing queries."""
    import asyncpg
    from pgvector.asyncpg import register_vector

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    vocabulary = [
        "".join(rng.choice("abcdefghiklmnoprstuvwyz") for _ in range(rng.randint(4, 9))) for _ in range(5000)
    ]
    centres = nrng.standard_normal((3000, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    sizes = sizes or tenant_sizes(total, rng)
    now = datetime.now(UTC)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    await register_vector(conn)
    tenants: dict[str, list[tuple[uuid.UUID, np.ndarray, list[str]]]] = {}
    try:
        for size_class, class_sizes in sizes.items():
            tenants[size_class] = []
            for size in class_sizes:
                org = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO organizations (id, name, status, created_at, updated_at) VALUES ($1, $2, 'active', $3, $3)",
                    org,
                    f"bench {size_class} {size}",
                    now,
                )
                topics = centres[nrng.choice(len(centres), size=max(2, min(200, size // 25)), replace=False)]
                noise = nrng.standard_normal((size, DIM)).astype(np.float32) * (0.6 / np.sqrt(DIM))
                vectors = topics[nrng.integers(0, len(topics), size)] + noise
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                texts = [words(rng, vocabulary, 40) for _ in range(size)]
                entries = []
                records = []
                for start in range(0, size, 50):
                    entry = uuid.uuid4()
                    entries.append((entry, org, f"entry {start}", "text", "ready", 1, "", 0, 0, now, now))
                    for position, index in enumerate(range(start, min(size, start + 50))):
                        records.append(
                            (
                                uuid.uuid4(),
                                org,
                                entry,
                                position,
                                texts[index],
                                60,
                                texts[index],
                                vectors[index],
                                MODEL,
                                now,
                                now,
                            )
                        )
                await conn.copy_records_to_table(
                    "knowledge_entries",
                    records=entries,
                    columns=[
                        "id", "organization_id", "title", "source_type", "status", "version", "content",
                        "chunk_count", "token_count", "created_at", "updated_at",
                    ],
                )  # fmt: skip
                await conn.copy_records_to_table(
                    "knowledge_chunks",
                    records=records,
                    columns=[
                        "id", "organization_id", "entry_id", "position", "content", "token_count", "search_text",
                        "embedding", "embedding_model", "created_at", "updated_at",
                    ],
                )  # fmt: skip
                tenants[size_class].append((org, vectors, texts))
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return tenants


def query_from(rng: np.random.Generator, vectors: np.ndarray) -> list[float]:
    """A query near one of the tenant's chunks (as a question is near its answer)."""
    base = vectors[rng.integers(0, len(vectors))]
    query = base + rng.standard_normal(DIM).astype(np.float32) * (0.8 / np.sqrt(DIM))
    return (query / np.linalg.norm(query)).tolist()  # type: ignore[no-any-return]


PRODUCTION_SETTINGS = (
    "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
    f"set_config('hnsw.ef_search', '{EF_SEARCH}', true), set_config('plan_cache_mode', 'force_custom_plan', true)"
)
VEC_SQL = (
    f"SELECT id, 1 - ((embedding::vector({DIM})) <=> CAST(:q AS vector({DIM}))) AS sim FROM knowledge_chunks "
    f"WHERE organization_id = :org AND embedding_model = :model "
    f"ORDER BY (embedding::vector({DIM})) <=> CAST(:q AS vector({DIM})) LIMIT :limit"
)


async def build_vector_index(url: str) -> None:
    """The production index, through an engine without the 60 s statement timeout of ``make_engine``
    (a large build on a busy machine takes longer)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, connect_args={"command_timeout": None})
    try:
        await ensure_vector_index(engine, MODEL, DIM)
    finally:
        await engine.dispose()


async def build_tenant_indexes(url: str, above: int) -> None:
    """The production per-tenant indexes (``tenant_indexes.maintain_tenant_indexes``, as the worker's
    maintenance cron runs it) for every tenant with more than ``above`` chunks."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, connect_args={"command_timeout": None})
    try:
        report = await maintain_tenant_indexes(engine, MODEL, DIM, above)
        again = await maintain_tenant_indexes(engine, MODEL, DIM, above)
        async with engine.connect() as conn:
            size, chunks = (
                await conn.execute(
                    text(
                        "SELECT pg_size_pretty(sum(pg_relation_size(indexrelid))), "
                        "(SELECT count(*) FROM (SELECT organization_id FROM knowledge_chunks "
                        "GROUP BY organization_id HAVING count(*) > :above) t) FROM pg_index "
                        "JOIN pg_class ON pg_class.oid = indexrelid WHERE relname LIKE 'ix_chunks_hnsw_org_%'"
                    ),
                    {"above": above},
                )
            ).one()
    finally:
        await engine.dispose()
    print(
        f"per-tenant HNSW indexes (production maintain_tenant_indexes) for the {chunks} tenants above "
        f"{above:,} chunks: {len(report.built)} built in {report.seconds:.1f}s, {size}; second run: "
        f"{len(again.built) + len(again.rebuilt)} built in {again.seconds:.2f}s; "
        f"load {os.getloadavg()[1]:.1f} (5-min average)",
        flush=True,
    )


def strategy_sql(plan: VectorPlan) -> str:
    distance = f"(embedding::vector({DIM})) <=> CAST(:q AS vector({DIM}))"
    return (
        f"SELECT id, 1 - ({distance}) AS sim FROM knowledge_chunks "
        f"WHERE organization_id = :org AND embedding_model = :model "
        f"ORDER BY {plan.order_by(distance)} LIMIT :limit"
    )


def postgres_rss_mb(root: Path) -> float:
    import psutil

    pid_file = root / "postgres" / "postmaster.pid"
    try:
        main = psutil.Process(int(pid_file.read_text().split()[0]))
        return sum(p.memory_info().rss for p in [main, *main.children(recursive=True)]) / 2**20
    except (OSError, ValueError, psutil.Error):
        return float("nan")


async def run_zipf(
    total: int,
    orgs: int,
    zipf_s: float,
    queries: int,
    seed: int,
    concurrency: int,
    qps_seconds: float,
    keep: Path | None = None,
    maintenance_work_mem: str = "1GB",
    tenant_indexes: int = 0,
) -> None:
    root = Path(tempfile.mkdtemp(prefix="klm-bsearch-", dir=keep))
    postgres = EmbeddedPostgres(root / "postgres")
    started = time.perf_counter()
    postgres.start()
    url = postgres.url
    await asyncio.to_thread(upgrade_to_head, url)
    engine = make_engine(url, pool_size=max(2, concurrency))
    try:
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text(f"ALTER SYSTEM SET maintenance_work_mem = '{maintenance_work_mem}'"))
            await auto.execute(text("ALTER SYSTEM SET max_parallel_maintenance_workers = 2"))
            await auto.execute(text("SELECT pg_reload_conf()"))
            version = (
                await auto.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'vector'"))
            ).scalar()
            buffers = (await auto.execute(text("SHOW shared_buffers"))).scalar()
        print(f"embedded PostgreSQL ready in {time.perf_counter() - started:.1f}s; pgvector {version}, "
              f"shared_buffers {buffers}")  # fmt: skip
        sizes = zipf_sizes(total, orgs, zipf_s)
        t0 = time.perf_counter()
        tenants = await load_corpus(url, total, seed, sizes)
        load_s = time.perf_counter() - t0
        grand = sum(sum(c) for c in sizes.values())
        print(
            f"corpus: {grand:,} chunks in {orgs:,} organizations, Zipf s={zipf_s:g} (largest {max(max(c) for c in sizes.values()):,}"
            f" = {max(max(c) for c in sizes.values()) / grand:.1%}); loaded in {load_s:.1f}s"
        )
        t0 = time.perf_counter()
        await build_vector_index(url)
        build_s = time.perf_counter() - t0
        async with engine.connect() as conn:
            index_size, table_size = (
                await conn.execute(
                    text(
                        f"SELECT pg_size_pretty(pg_relation_size('{vector_index_name(MODEL, DIM)}')), "
                        "pg_size_pretty(pg_total_relation_size('knowledge_chunks'))"
                    )
                )
            ).one()
        print(
            f"HNSW (m={HNSW_M}, ef_construction={HNSW_EF_CONSTRUCTION}) built in {build_s:.1f}s: {index_size}; "
            f"knowledge_chunks with all indexes {table_size}; PostgreSQL RSS {postgres_rss_mb(root):.0f} MB; "
            f"load during the build {os.getloadavg()[1]:.1f} (5-min average)",
            flush=True,
        )
        if tenant_indexes:
            await build_tenant_indexes(url, tenant_indexes)
        print(
            f"production: ef_search={EF_SEARCH}, iterative_scan=relaxed_order, {CANDIDATES} candidates; plan = "
            f"search_strategy.plan_for(size): exact <= {EXACT_MAX_CHUNKS:,} chunks, else {plan_for(EXACT_MAX_CHUNKS + 1).name}"
        )
        factory = make_session_factory(engine)
        rng = np.random.default_rng(seed + 1)
        prng = random.Random(seed + 1)
        hnsw_sql = text(strategy_sql(HNSW)).bindparams(bindparam("q", type_=Vector(DIM)))
        exact_sql = text(strategy_sql(EXACT)).bindparams(bindparam("q", type_=Vector(DIM)))
        print(f"\nload: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
        print(
            f"{'class':<9}{'orgs':>6}{'queries':>8} | {'hybrid p50':>10}{'p95':>7}{'recall':>7} {'plan':<12}|"
            f" {'hnsw p50':>8}{'p95':>7}{'recall':>7} | {'exact p50':>9}{'p95':>7}"
        )
        for size_class, items in tenants.items():
            hybrid: list[float] = []
            hnsw_ms: list[float] = []
            exact_ms: list[float] = []
            recall_prod: list[float] = []
            recall_hnsw: list[float] = []
            plans: Counter[str] = Counter()
            for i in range(queries + 3):
                org, vectors, texts = prng.choice(items)
                query = query_from(rng, vectors)
                query_text = " ".join([*prng.choice(texts).split()[:3], "unrelated", "words"])
                params = {"q": query, "org": org, "model": MODEL, "limit": CANDIDATES}
                async with factory() as session:
                    # the vector candidates as production's search runs them (its plan for this tenant)
                    plan = await TENANT_SIZES.plan(session, org, MODEL)
                    sql = strategy_sql(plan)
                    if await TENANT_INDEXES.has(session, org, MODEL, DIM):
                        plan = OWN_INDEX
                        sql = strategy_sql(plan).replace(
                            "organization_id = :org AND embedding_model = :model",
                            tenant_index_predicate(org, MODEL),
                        )
                    await session.execute(text(plan.settings_sql()))
                    statement = text(sql).bindparams(bindparam("q", type_=Vector(DIM)))
                    rows = (await session.execute(statement, params)).all()
                    produced = [r.id for r in rows[:10]]
                    plans[plan.name] += 1
                    await session.rollback()
                    t0 = time.perf_counter()
                    await PgChunkIndex(session, DIM).search(
                        org,
                        query_vector=query,
                        query_text=query_text,
                        model=MODEL,
                        top_k=5,
                        similarity_floor=0.75,
                    )
                    t_hybrid = (time.perf_counter() - t0) * 1000
                    await session.rollback()
                    # HNSW forced (no sort allowed, so the b-tree + sort path is priced out)
                    await session.execute(text(HNSW.settings_sql()))
                    await session.execute(text("SET LOCAL enable_sort = off"))
                    t0 = time.perf_counter()
                    rows = (await session.execute(hnsw_sql, params)).all()
                    t_hnsw = (time.perf_counter() - t0) * 1000
                    approx = [r.id for r in rows[:10]]
                    await session.rollback()
                    # exact: ORDER BY distance + 0 (no index can give that order)
                    await session.execute(text(EXACT.settings_sql()))
                    t0 = time.perf_counter()
                    exact = [r.id for r in (await session.execute(exact_sql, {**params, "limit": 10})).all()]
                    t_exact = (time.perf_counter() - t0) * 1000
                    await session.rollback()
                if i < 3:
                    continue  # warm-up
                hybrid.append(t_hybrid)
                hnsw_ms.append(t_hnsw)
                exact_ms.append(t_exact)
                recall_prod.append(len(set(produced) & set(exact)) / max(1, len(exact)))
                recall_hnsw.append(len(set(approx) & set(exact)) / max(1, len(exact)))
            print(
                f"{size_class:<9}{len(items):>6}{queries:>8} | {percentile(hybrid, 50):>10.1f}{percentile(hybrid, 95):>7.1f}"
                f"{statistics.fmean(recall_prod):>7.3f} {plans.most_common(1)[0][0]:<12}|"
                f" {percentile(hnsw_ms, 50):>8.1f}{percentile(hnsw_ms, 95):>7.1f}{statistics.fmean(recall_hnsw):>7.3f}"
                f" | {percentile(exact_ms, 50):>9.1f}{percentile(exact_ms, 95):>7.1f}",
                flush=True,
            )
        print(
            "hybrid = PgChunkIndex.search as in production (query embedding not included), recall@10 of its"
            " vector candidates (the plan search_strategy picks for the tenant) vs exact;"
        )
        print(
            "hnsw = the candidate query forced onto the HNSW index (ef_search 100, iterative scan); exact ="
            " ORDER BY distance + 0 (the recall reference)."
        )
        print(f"load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
        await measure_qps(factory, tenants, concurrency, qps_seconds, seed)
    finally:
        await engine.dispose()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


async def measure_qps(
    factory: Any,
    tenants: dict[str, list[tuple[uuid.UUID, np.ndarray, list[str]]]],
    concurrency: int,
    seconds: float,
    seed: int,
) -> None:
    """Production hybrid searches from ``concurrency`` connections for ``seconds``; size classes in turn."""
    rng = np.random.default_rng(seed + 2)
    prng = random.Random(seed + 2)
    classes = list(tenants)
    latencies: dict[str, list[float]] = {name: [] for name in classes}
    end = time.perf_counter() + seconds

    async def client(i: int) -> None:
        n = i
        while time.perf_counter() < end:
            size_class = classes[n % len(classes)]
            n += 1
            org, vectors, texts = prng.choice(tenants[size_class])
            async with factory() as session:
                t0 = time.perf_counter()
                await PgChunkIndex(session, DIM).search(
                    org, query_vector=query_from(rng, vectors), query_text=prng.choice(texts).split()[0],
                    model=MODEL, top_k=5, similarity_floor=0.75,
                )  # fmt: skip
                latencies[size_class].append((time.perf_counter() - t0) * 1000)
                await session.rollback()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - t0
    done = sum(len(v) for v in latencies.values())
    print(f"load: {os.getloadavg()[0]:.1f}; PostgreSQL RSS after the run measured by the caller")
    print(
        f"\nsaturation: {concurrency} connections for {elapsed:.1f}s, size classes in turn: {done / elapsed:.0f} QPS"
        " (the client shares the CPUs with PostgreSQL)"
    )
    for name, values in latencies.items():
        print(
            f"  {name:<9} n={len(values):<6} p50 {percentile(values, 50):6.1f} ms  p95 {percentile(values, 95):6.1f} ms"
        )


async def run(total: int, queries: int, seed: int, keep: Path | None) -> None:
    root = keep or Path(tempfile.mkdtemp(prefix="klm-bsearch-"))
    postgres = EmbeddedPostgres(root / "postgres")
    started = time.perf_counter()
    postgres.start()
    url = postgres.url
    await asyncio.to_thread(upgrade_to_head, url)
    engine = make_engine(url, pool_size=2)
    try:
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("ALTER SYSTEM SET maintenance_work_mem = '1GB'"))
            await auto.execute(text("ALTER SYSTEM SET max_parallel_maintenance_workers = 2"))
            await auto.execute(text("SELECT pg_reload_conf()"))
            version = (
                await auto.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'vector'"))
            ).scalar()
        print(f"embedded PostgreSQL ready in {time.perf_counter() - started:.1f}s; pgvector {version}")

        t0 = time.perf_counter()
        tenants = await load_corpus(url, total, seed)
        load_s = time.perf_counter() - t0
        counts = {k: [len(v) for _, v, _ in items] for k, items in tenants.items()}
        print(
            f"corpus: {sum(sum(c) for c in counts.values()):,} chunks (random clustered unit vectors, {DIM} dims) "
            f"in {sum(len(c) for c in counts.values())} organizations, loaded in {load_s:.1f}s"
        )
        for name, sizes in counts.items():
            print(
                f"  {name:<6} {len(sizes):>4} orgs, sizes {min(sizes):,}–{max(sizes):,}, {sum(sizes):,} chunks"
            )

        t0 = time.perf_counter()
        await build_vector_index(url)
        build_s = time.perf_counter() - t0
        async with engine.connect() as conn:
            size = (
                await conn.execute(
                    text(f"SELECT pg_size_pretty(pg_relation_size('{vector_index_name(MODEL, DIM)}'))")
                )
            ).scalar()
        print(
            f"HNSW index: m={HNSW_M}, ef_construction={HNSW_EF_CONSTRUCTION}, vector_cosine_ops over "
            f"embedding::vector({DIM}), partial WHERE embedding_model = '{MODEL}'; built in {build_s:.1f}s, {size}"
        )
        print(
            f"search: hnsw.ef_search={EF_SEARCH}, hnsw.iterative_scan=relaxed_order, {CANDIDATES} candidates per "
            f"signal, RRF k=60; full text over a GIN index"
        )

        factory = make_session_factory(engine)
        rng = np.random.default_rng(seed + 1)
        prng = random.Random(seed + 1)
        vec = text(VEC_SQL).bindparams(bindparam("q", type_=Vector(DIM)))
        print()
        print(
            f"{'tenant':<8}{'queries':>8}{'hybrid p50 ms':>15}{'p95 ms':>9}{'exact vec p50':>15}{'recall@10':>11}  plan"
        )
        for size_class, items in tenants.items():
            latencies: list[float] = []
            exact_latencies: list[float] = []
            recalls: list[float] = []
            plans: Counter[str] = Counter()
            # warm-up: first touches of the index and the tables
            for _ in range(3):
                org, vectors, texts = prng.choice(items)
                async with factory() as session:
                    await PgChunkIndex(session, DIM).search(
                        org,
                        query_vector=query_from(rng, vectors),
                        query_text="x",
                        model=MODEL,
                        top_k=5,
                        similarity_floor=0.75,
                    )
            for _ in range(queries):
                org, vectors, texts = prng.choice(items)
                query = query_from(rng, vectors)
                query_text = " ".join([*prng.choice(texts).split()[:3], "unrelated", "words"])
                async with factory() as session:
                    t0 = time.perf_counter()
                    await PgChunkIndex(session, DIM).search(
                        org,
                        query_vector=query,
                        query_text=query_text,
                        model=MODEL,
                        top_k=5,
                        similarity_floor=0.75,
                    )
                    latencies.append((time.perf_counter() - t0) * 1000)
                    await session.rollback()
                    # the production vector path: same settings, same candidate query
                    await session.execute(text(PRODUCTION_SETTINGS))
                    params = {"q": query, "org": org, "model": MODEL, "limit": CANDIDATES}
                    rows = (await session.execute(vec, params)).all()
                    approx = [r.id for r in sorted(rows, key=lambda r: -r.sim)[:10]]
                    # the plan actually chosen for this tenant and query
                    explain = await session.execute(
                        text("EXPLAIN " + VEC_SQL).bindparams(bindparam("q", type_=Vector(DIM))), params
                    )
                    plan = "\n".join(r[0] for r in explain)
                    plans["hnsw" if "hnsw" in plan else "b-tree+sort" if "Sort" in plan else "other"] += 1
                    await session.rollback()
                    await session.execute(text("SET LOCAL enable_indexscan = off"))
                    t0 = time.perf_counter()
                    exact = [r.id for r in (await session.execute(vec, {**params, "limit": 10})).all()]
                    exact_latencies.append((time.perf_counter() - t0) * 1000)
                    await session.rollback()
                recalls.append(len(set(approx) & set(exact)) / max(1, len(exact)))
            print(
                f"{size_class:<8}{queries:>8}{percentile(latencies, 50):>15.1f}{percentile(latencies, 95):>9.1f}"
                f"{percentile(exact_latencies, 50):>15.1f}{sum(recalls) / len(recalls):>11.3f}  {', '.join(f'{name} x{n}' for name, n in plans.most_common())}"
            )
        print(
            "\nhybrid = PgChunkIndex.search (embedding the query, ~10 ms with the offline model, not included);"
        )
        print("exact vec = the vector candidate query with index scans disabled (the recall reference).")
    finally:
        await engine.dispose()
        postgres.stop()
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=100_000, help="corpus size (default 100000)")
    parser.add_argument("--queries", type=int, default=100, help="queries per tenant size class")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="use (and keep) this data directory; with --zipf-orgs: the parent of its (removed) data directory",
    )
    parser.add_argument("--zipf-orgs", type=int, default=0, help="multi-tenant mode: this many organizations")
    parser.add_argument("--zipf-s", type=float, default=1.0, help="Zipf exponent of the tenant sizes")
    parser.add_argument("--concurrency", type=int, default=8, help="connections for the QPS measurement")
    parser.add_argument("--qps-seconds", type=float, default=15.0)
    parser.add_argument(
        "--tenant-indexes",
        type=int,
        default=0,
        help="build the production per-tenant HNSW indexes for tenants above this many chunks (--zipf-orgs)",
    )
    parser.add_argument(
        "--maintenance-work-mem",
        default="1GB",
        help="for the HNSW build (--zipf-orgs); below the index size it slows",
    )
    args = parser.parse_args()
    if args.zipf_orgs:
        asyncio.run(
            run_zipf(
                args.chunks,
                args.zipf_orgs,
                args.zipf_s,
                args.queries,
                args.seed,
                args.concurrency,
                args.qps_seconds,
                args.keep,
                args.maintenance_work_mem,
                args.tenant_indexes,
            )
        )
    else:
        asyncio.run(run(args.chunks, args.queries, args.seed, args.keep))


if __name__ == "__main__":
    main()
