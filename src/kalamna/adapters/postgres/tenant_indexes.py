"""Per-tenant partial HNSW indexes: built for tenants above a size, dropped with their organization.

At 1M chunks HNSW under a tenant filter loses recall (0.83–0.90) and time for mid-size tenants; a
tenant's own graph has no filter to apply (docs/knowledge.md). :func:`maintain_tenant_indexes` runs
from the worker's maintenance cron (``worker/maintenance.py``) and:

* builds ``CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_chunks_hnsw_org_<org hex>_<model hash>`` (same
  expression, operator class and options as the global index; predicate
  ``organization_id = '<uuid>' AND embedding_model = '<model>'``) for every tenant with more than
  ``min_chunks`` chunks embedded by the current model that has no *valid* one. An INVALID index (a
  concurrent build that failed or was interrupted) is dropped and built again. Each build holds a
  session advisory lock on the index name, so two processes never build (or drop) one index at once;
  the whole sweep holds another, so overlapping cron runs skip rather than queue.
* drops (``DROP INDEX CONCURRENTLY``) the indexes of organizations that no longer exist. A tenant
  that shrinks below the threshold keeps its index.

Every statement runs on an autocommit connection (``CONCURRENTLY`` cannot run in a transaction), through
the driver with a long timeout (``make_engine``'s 60 s command timeout would cut a large build).
The search side (``search_strategy.TenantIndexes``) reads valid indexes from ``pg_index``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from kalamna.adapters.postgres.chunk_index import HNSW_OPTIONS
from kalamna.adapters.postgres.search_strategy import (
    TENANT_INDEX_PREFIX,
    tenant_index_name,
    tenant_index_predicate,
)

log = logging.getLogger("kalamna.knowledge")
BUILD_TIMEOUT_S = 6 * 3600.0
SWEEP_LOCK = "kalamna:tenant-indexes"


@dataclass(slots=True)
class TenantIndexReport:
    built: list[str] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)  # an INVALID leftover was dropped first
    dropped: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # another process holds the lock
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def create_sql(organization_id: UUID, model: str, dimensions: int) -> str:
    name = tenant_index_name(organization_id, model, dimensions)
    return (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON knowledge_chunks "
        f"USING hnsw ((embedding::vector({int(dimensions)})) vector_cosine_ops) WITH ({HNSW_OPTIONS}) "
        f"WHERE {tenant_index_predicate(organization_id, model)}"
    )


async def _try_lock(pg: Any, key: str) -> bool:
    return bool(await pg.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key))


async def _unlock(pg: Any, key: str) -> None:
    await pg.fetchval("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)


async def _index_state(pg: Any, name: str) -> bool | None:
    """True: valid; False: present but INVALID (or not ready); None: absent."""
    row = await pg.fetchrow(
        "SELECT i.indisvalid AND i.indisready AS ok FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
        "WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace",
        name,
    )
    return None if row is None else bool(row["ok"])


async def _ensure_one(
    pg: Any, organization_id: UUID, model: str, dimensions: int, report: TenantIndexReport
) -> None:
    name = tenant_index_name(organization_id, model, dimensions)
    if not await _try_lock(pg, f"kalamna:index:{name}"):
        report.busy.append(name)
        return
    try:
        state = await _index_state(pg, name)  # again, under the lock
        if state is True:
            return
        if state is False:
            await pg.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", timeout=BUILD_TIMEOUT_S)
        started = time.perf_counter()
        await pg.execute(create_sql(organization_id, model, dimensions), timeout=BUILD_TIMEOUT_S)
        (report.rebuilt if state is False else report.built).append(name)
        log.info(
            "tenant vector index built",
            extra={"index": name, "seconds": round(time.perf_counter() - started, 1)},
        )
    finally:
        await _unlock(pg, f"kalamna:index:{name}")


async def maintain_tenant_indexes(
    engine: AsyncEngine,
    model: str,
    dimensions: int,
    min_chunks: int,
    *,
    organization_id: UUID | None = None,
) -> TenantIndexReport:
    """Build the missing or INVALID indexes of tenants above ``min_chunks`` chunks (``<= 0``: build
    none) and drop those of deleted organizations; ``organization_id`` limits the build to one tenant.
    A failed build is logged and left INVALID for the next run to replace."""
    report = TenantIndexReport()
    started = time.perf_counter()
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        raw = await conn.get_raw_connection()
        pg: Any = raw.driver_connection  # asyncpg: no transaction is opened on this connection
        if not await _try_lock(pg, SWEEP_LOCK):
            report.busy.append(SWEEP_LOCK)
            return report
        try:
            if min_chunks > 0:
                rows = await pg.fetch(
                    "SELECT organization_id FROM knowledge_chunks WHERE embedding_model = $1 "
                    "AND ($2::uuid IS NULL OR organization_id = $2::uuid) "
                    "GROUP BY organization_id HAVING count(*) > $3 ORDER BY count(*) DESC",
                    model,
                    organization_id,
                    min_chunks,
                    timeout=BUILD_TIMEOUT_S,
                )
                for row in rows:
                    try:
                        await _ensure_one(pg, row["organization_id"], model, dimensions, report)
                    except Exception as exc:  # one tenant's failure must not stop the others
                        if pg.is_closed():
                            raise
                        report.failed.append(tenant_index_name(row["organization_id"], model, dimensions))
                        log.warning("tenant vector index not built: %s", exc)
            await _drop_orphans(pg, report)
        finally:
            if not pg.is_closed():
                await _unlock(pg, SWEEP_LOCK)
    report.seconds = time.perf_counter() - started
    return report


async def _drop_orphans(pg: Any, report: TenantIndexReport) -> None:
    """Indexes whose organization is gone (its chunks went with it: ON DELETE CASCADE)."""
    names = [
        str(r["relname"])
        for r in await pg.fetch(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'knowledge_chunks'::regclass AND starts_with(c.relname, $1)",
            TENANT_INDEX_PREFIX,
        )
    ]
    by_org: dict[UUID, list[str]] = {}
    for name in names:
        try:
            by_org.setdefault(UUID(hex=name[len(TENANT_INDEX_PREFIX) :][:32]), []).append(name)
        except ValueError:
            continue
    if not by_org:
        return
    rows = await pg.fetch("SELECT id FROM organizations WHERE id = ANY($1::uuid[])", list(by_org))
    alive = {r["id"] for r in rows}
    for org, org_names in by_org.items():
        if org in alive:
            continue
        for name in org_names:
            if not await _try_lock(pg, f"kalamna:index:{name}"):
                report.busy.append(name)
                continue
            try:
                await pg.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", timeout=BUILD_TIMEOUT_S)
                report.dropped.append(name)
            finally:
                await _unlock(pg, f"kalamna:index:{name}")
