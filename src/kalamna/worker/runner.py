"""Build and run a SAQ worker that shares the API's container wiring."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from dishka import AsyncContainer
from saq import CronJob, Queue, Worker
from sqlalchemy.exc import SQLAlchemyError

from kalamna.adapters.queue.saq_queue import TASK_OPTIONS, SaqJobQueue
from kalamna.application.mail import RequeueUnsentMail
from kalamna.config import Settings
from kalamna.di import prepare
from kalamna.observability import install_job_log_filter
from kalamna.ports.jobs import RECONCILE_INGESTION, REQUEUE_UNSENT_MAIL, REQUEUE_WEBHOOK_DELIVERIES
from kalamna.worker.job_metrics import count_job
from kalamna.worker.maintenance import CRON_JOBS, MAINTENANCE_TASKS, STARTUP_KEY
from kalamna.worker.tasks import TASKS, requeue_unsent_mail
from kalamna.worker.webhook_tasks import requeue_webhook_deliveries

log = logging.getLogger("kalamna.worker")


class PromptWorker(Worker[Any]):
    """A SAQ worker whose idle parts stop at once.

    SAQ's ``stop`` waits up to the grace period for *every* task, including the housekeeping loops
    that sleep up to 60 s and the job loops blocked waiting for a job, so an idle worker took the
    whole grace period (10 s) to stop. Here the housekeeping loops are cancelled at once (they are
    idempotent) and the job loops wait at most ``worker_idle_wait_s`` for a job, so they return on
    their own; running jobs still get the grace period.
    """

    _upkeep_tasks: list[asyncio.Task[Any]]

    async def upkeep(self) -> list[asyncio.Task[None]]:
        self._upkeep_tasks = await super().upkeep()
        return self._upkeep_tasks

    async def stop(self) -> None:
        self.event.set()
        for task in getattr(self, "_upkeep_tasks", []):
            task.cancel()
        await super().stop()


async def build_worker(
    settings: Settings, container: AsyncContainer, *, shutdown_grace_s: int | None = None
) -> Worker[Any]:
    queue = await container.get(Queue)

    install_job_log_filter()  # SAQ would log a job's arguments; ours never do

    async def startup(ctx: dict[str, Any]) -> None:
        await prepare(container)
        ctx["container"] = container
        ctx["settings"] = settings
        try:  # mails whose job was lost (e.g. a Redis restart); the cron job retries every minute
            async with container() as scope:
                await (await scope.get(RequeueUnsentMail))(older_than=timedelta(0))
        except (SQLAlchemyError, OSError) as exc:
            logging.getLogger("kalamna.mail").warning(
                "unsent mails not re-queued at start: %s", type(exc).__name__
            )
        try:  # catch up at once on what went stuck while no worker ran
            await SaqJobQueue(queue).enqueue(RECONCILE_INGESTION, key=STARTUP_KEY)
        except Exception as exc:  # Redis may be down at start; the schedule runs it later
            log.warning("start-up reconciliation not queued: %s", exc)
        log.info("worker ready", extra={"queue": settings.queue_name})

    return PromptWorker(
        queue,
        functions=[*TASKS, *MAINTENANCE_TASKS],
        cron_jobs=[
            *CRON_JOBS,
            CronJob(requeue_unsent_mail, cron="* * * * *", **TASK_OPTIONS[REQUEUE_UNSENT_MAIL]),
            CronJob(
                requeue_webhook_deliveries,
                cron="* * * * *",
                **TASK_OPTIONS[REQUEUE_WEBHOOK_DELIVERIES],
            ),
        ],
        concurrency=settings.worker_concurrency,
        startup=startup,
        after_process=count_job,
        shutdown_grace_period_s=shutdown_grace_s or settings.worker_shutdown_grace_s,
        dequeue_timeout=settings.worker_idle_wait_s,
    )


@asynccontextmanager
async def in_process_worker(settings: Settings, container: AsyncContainer) -> AsyncIterator[Worker[Any]]:
    """Run a worker as a task of the current event loop (``kalamna dev``, integration tests).

    The host process (uvicorn) owns the signals, so the worker installs no handlers of its own.
    """
    worker = await build_worker(settings, container, shutdown_grace_s=1)
    worker.SIGNALS = []
    task = asyncio.create_task(worker.start(), name="saq-worker")
    try:
        yield worker
    finally:
        await worker.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
