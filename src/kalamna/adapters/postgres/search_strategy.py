"""How the vector candidate query should run for a tenant of a given size (query side only).

One partial HNSW index serves every organization; the tenant is a filter. What works depends on the
tenant's share of the index:

* **small** tenants: an *exact* scan of the tenant's rows (the ``(organization_id, embedding_model)``
  b-tree, then a sort by distance) is cheap and has recall 1. The planner usually picks it, but not
  always; ordering by ``distance + 0`` cannot use the HNSW index, so the plan is forced.
* larger tenants, and tenants that are a large share of the table (the graph then finds their rows at
  once): HNSW with iterative scan at ``ef_search = 100``.

``PgChunkIndex.search`` asks :data:`TENANT_SIZES` for the plan of every search.

Measured (``bench/search.py --zipf-orgs 1000 --chunks 100000``): an exact scan costs ~7 µs per tenant row
(p50 1.6 ms for 100–999 chunks, ~20 ms around 3,000), while HNSW under a selective tenant filter had a
p95 of 86 ms for 1k–10k-chunk tenants; recall@10 of HNSW was 1.0 in every class, and raising
``ef_search`` to 400 made a 13k-chunk tenant 10x slower for nothing. Hence one threshold, chosen so an
exact scan stays near 20 ms on an idle machine. A larger ``ef_search`` for mid-size tenants is the
lever to use if a larger corpus shows their recall below 0.95 (it did at 100k with one tenant holding
half the table: 0.949). At 1M chunks (docs/knowledge.md) HNSW under a tenant filter loses recall
(0.83–0.90) and time (~1 s for tenants of 0.01–1 % of the table): hence a partial index per large
tenant (``tenant_indexes``; :class:`TenantIndexes` says which tenants have one, and their search uses
:data:`OWN_INDEX` with the literal predicate of :func:`tenant_index_predicate`).

:func:`plan_for` picks the plan from the tenant's chunk count and the table's; :class:`TenantSizes`
caches counts per process (a tenant's size changes slowly; a stale count only costs speed or a little
recall, never correctness of tenancy). ``bench/search.py --zipf-orgs`` measures these plans against the
production query and exact search, which is how the thresholds below were chosen.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

EXACT_MAX_CHUNKS = 3_000
# Exact when tenant² <= EXACT_COST_RATIO x table rows: an exact scan costs ~7 µs per tenant row, an HNSW
# scan under a tenant filter ~2 ms / (tenant's share of the table) (iterative scan until enough of the
# tenant's rows are found), equal when tenant² ≈ 300 x table.
EXACT_COST_RATIO = 300


@dataclass(frozen=True, slots=True)
class VectorPlan:
    name: str
    exact: bool
    ef_search: int = 100
    max_scan_tuples: int = 20_000

    def settings_sql(self) -> str:
        """One ``SELECT set_config(...)`` for the transaction, as ``PgChunkIndex.search`` sends today."""
        return (
            "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
            f"set_config('hnsw.ef_search', '{int(self.ef_search)}', true), "
            f"set_config('hnsw.max_scan_tuples', '{int(self.max_scan_tuples)}', true), "
            "set_config('plan_cache_mode', 'force_custom_plan', true)"
        )

    def order_by(self, distance: str) -> str:
        """The ORDER BY expression for the candidate query: ``distance + 0`` for an exact scan (no
        index can produce that order, so PostgreSQL filters by tenant and sorts)."""
        return f"({distance}) + 0" if self.exact else distance


EXACT = VectorPlan("exact", exact=True)
HNSW = VectorPlan("hnsw ef=100", exact=False, ef_search=100)


# A tenant with a partial HNSW index of its own (``tenant_indexes``): no tenant filter inside the graph.
OWN_INDEX = VectorPlan("own index", exact=False, ef_search=100)
TENANT_INDEX_PREFIX = "ix_chunks_hnsw_org_"


def tenant_index_name(organization_id: UUID, model: str, dimensions: int) -> str:
    """``ix_chunks_hnsw_org_<org hex>_<8 hex of model:dimensions>`` (60 characters; PostgreSQL keeps 63)."""
    suffix = hashlib.sha1(f"{model}:{int(dimensions)}".encode()).hexdigest()[:8]  # noqa: S324
    return f"{TENANT_INDEX_PREFIX}{UUID(str(organization_id)).hex}_{suffix}"


def tenant_index_predicate(organization_id: UUID, model: str, alias: str = "") -> str:
    """The partial index's predicate, and the WHERE of a search that must match it: literals (the planner
    matches a partial index only against constants), the organization id re-validated as a UUID."""
    literal = model.replace("'", "''")
    column = f"{alias}." if alias else ""
    org = UUID(str(organization_id))
    return f"{column}organization_id = '{org}' AND {column}embedding_model = '{literal}'"


class TenantIndexes:
    """Per-process cache of the names of the *valid* per-tenant indexes (``pg_index.indisvalid``),
    refreshed after ``ttl_s``. A stale answer costs speed only: the search's WHERE is the same rows."""

    def __init__(self, ttl_s: float = 60.0) -> None:
        self._ttl_s = ttl_s
        self._names: tuple[float, frozenset[str]] | None = None

    async def names(self, session: AsyncSession) -> frozenset[str]:
        now = time.monotonic()
        if self._names is not None and now - self._names[0] < self._ttl_s:
            return self._names[1]
        result = await session.execute(
            text(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = 'knowledge_chunks'::regclass AND i.indisvalid AND i.indisready "
                "AND starts_with(c.relname, :prefix)"
            ),
            {"prefix": TENANT_INDEX_PREFIX},
        )
        names = frozenset(str(name) for name in result.scalars())
        self._names = (now, names)
        return names

    async def has(self, session: AsyncSession, organization_id: UUID, model: str, dimensions: int) -> bool:
        return tenant_index_name(organization_id, model, dimensions) in await self.names(session)

    def forget(self) -> None:
        self._names = None


def plan_for(tenant_chunks: int, table_chunks: int | None = None) -> VectorPlan:
    """Exact below :data:`EXACT_MAX_CHUNKS` chunks unless the tenant is a large share of the table
    (``table_chunks``; unknown counts as the tenant alone), where the HNSW graph finds its rows at
    once: a 2,000-chunk tenant in a 3,000-row table took 44 ms exact vs 6 ms HNSW."""
    if tenant_chunks > EXACT_MAX_CHUNKS:
        return HNSW
    table = max(tenant_chunks, table_chunks or 0)
    return EXACT if tenant_chunks * tenant_chunks <= EXACT_COST_RATIO * table else HNSW


class TenantSizes:
    """Per-process cache of each (organization, model)'s chunk count, refreshed after ``ttl_s``."""

    def __init__(self, ttl_s: float = 300.0, max_entries: int = 100_000) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._counts: dict[tuple[UUID, str], tuple[float, int]] = {}
        self._total: tuple[float, int | None] | None = None

    async def count(self, session: AsyncSession, organization_id: UUID, model: str) -> int:
        key = (organization_id, model)
        now = time.monotonic()
        cached = self._counts.get(key)
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        result = await session.execute(
            text(
                "SELECT count(*) FROM knowledge_chunks "
                "WHERE organization_id = :org AND embedding_model = :model"
            ),
            {"org": organization_id, "model": model},
        )
        count = int(result.scalar_one())
        if len(self._counts) >= self._max_entries:
            self._counts.clear()
        self._counts[key] = (now, count)
        return count

    async def total(self, session: AsyncSession) -> int | None:
        """The table's row count as PostgreSQL's statistics estimate it (``None`` before the first
        ANALYZE): free to read, cached like the counts."""
        now = time.monotonic()
        if self._total is not None and now - self._total[0] < self._ttl_s:
            return self._total[1]
        result = await session.execute(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'knowledge_chunks'::regclass")
        )
        rows = int(result.scalar_one())
        self._total = (now, rows if rows >= 0 else None)
        return self._total[1]

    async def plan(self, session: AsyncSession, organization_id: UUID, model: str) -> VectorPlan:
        return plan_for(await self.count(session, organization_id, model), await self.total(session))

    def forget(self) -> None:
        self._counts.clear()
        self._total = None


# The process-wide cache ``PgChunkIndex`` uses unless given another (keyed by organization and model:
# it holds only counts, never tenant data).
TENANT_SIZES = TenantSizes()
TENANT_INDEXES = TenantIndexes()
