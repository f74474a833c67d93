"""Scheduled housekeeping: the ingestion reconciler, the purge of expired revocations, and the
per-tenant vector indexes (``adapters/postgres/tenant_indexes.py``, every ``TENANT_INDEX_CRON``).

Runs every ``RECONCILE_CRON`` and once at worker start (queued under a fixed key, so several
workers starting together run it once).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from dishka import AsyncContainer
from saq import CronJob
from sqlalchemy.ext.asyncio import AsyncEngine

from kalamna.adapters.postgres.revocations import PgRevocationLedger
from kalamna.adapters.postgres.tenant_indexes import maintain_tenant_indexes
from kalamna.adapters.queue.saq_queue import TASK_OPTIONS
from kalamna.application.knowledge.reconcile import ReconcileIngestion
from kalamna.config import Settings
from kalamna.ports.ai import Embedder
from kalamna.ports.jobs import RECONCILE_INGESTION, TENANT_VECTOR_INDEXES

log = logging.getLogger("kalamna.worker")
RECONCILE_CRON = "*/5 * * * *"
STARTUP_KEY = "reconcile:startup"
TENANT_INDEX_CRON = "*/5 * * * *"

Context = dict[str, Any]


async def reconcile_ingestion(ctx: Context) -> dict[str, int]:
    container: AsyncContainer = ctx["container"]
    async with container() as scope:
        report = await (await scope.get(ReconcileIngestion))()
    purged = await (await container.get(PgRevocationLedger)).purge(time.time())
    if report.requeued or report.gave_up or purged:
        log.info(
            "reconciled",
            extra={"requeued": report.requeued, "gave_up": report.gave_up, "revocations_purged": purged},
        )
    return {"requeued": report.requeued, "gave_up": report.gave_up, "revocations_purged": purged}


async def tenant_vector_indexes(ctx: Context) -> dict[str, int]:
    """Per-tenant HNSW indexes: build for tenants above the threshold, drop for deleted organizations."""
    container: AsyncContainer = ctx["container"]
    settings = await container.get(Settings)
    embedder = await container.get(Embedder)
    report = await maintain_tenant_indexes(
        await container.get(AsyncEngine),
        embedder.model,
        embedder.dimensions,
        settings.knowledge_tenant_index_min_chunks,
    )
    if report.built or report.rebuilt or report.dropped or report.failed:
        log.info(
            "tenant vector indexes",
            extra={
                "built": len(report.built),
                "rebuilt": len(report.rebuilt),
                "dropped": len(report.dropped),
                "failed": len(report.failed),
                "seconds": round(report.seconds, 1),
            },
        )
    return {"built": len(report.built) + len(report.rebuilt), "dropped": len(report.dropped)}


MAINTENANCE_TASKS: list[Any] = [reconcile_ingestion, tenant_vector_indexes]
CRON_JOBS: list[CronJob[Any]] = [
    CronJob(reconcile_ingestion, cron=RECONCILE_CRON, **TASK_OPTIONS[RECONCILE_INGESTION]),
    # Overlapping runs skip (advisory lock), never queue.
    CronJob(tenant_vector_indexes, cron=TENANT_INDEX_CRON, **TASK_OPTIONS[TENANT_VECTOR_INDEXES]),
]
