"""Scheduled housekeeping: the ingestion reconciler and the purge of expired revocations.

Runs every ``RECONCILE_CRON`` and once at worker start (queued under a fixed key, so several
workers starting together run it once).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from dishka import AsyncContainer
from saq import CronJob

from kalamna.adapters.postgres.revocations import PgRevocationLedger
from kalamna.adapters.queue.saq_queue import TASK_OPTIONS
from kalamna.application.knowledge.reconcile import ReconcileIngestion
from kalamna.ports.jobs import RECONCILE_INGESTION

log = logging.getLogger("kalamna.worker")
RECONCILE_CRON = "*/5 * * * *"
STARTUP_KEY = "reconcile:startup"

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


MAINTENANCE_TASKS: list[Any] = [reconcile_ingestion]
CRON_JOBS: list[CronJob[Any]] = [
    CronJob(reconcile_ingestion, cron=RECONCILE_CRON, **TASK_OPTIONS[RECONCILE_INGESTION]),
]
