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

from kalamna.application.mail import RequeueUnsentMail
from kalamna.config import Settings
from kalamna.di import prepare
from kalamna.observability import install_job_log_filter
from kalamna.worker.job_metrics import count_job
from kalamna.worker.tasks import TASKS, requeue_unsent_mail


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
            log = logging.getLogger("kalamna.mail")
            log.warning("unsent mails not re-queued at start: %s", type(exc).__name__)

    return Worker(
        queue,
        functions=TASKS,
        cron_jobs=[CronJob(requeue_unsent_mail, cron="* * * * *", timeout=60)],
        concurrency=settings.worker_concurrency,
        startup=startup,
        after_process=count_job,
        shutdown_grace_period_s=shutdown_grace_s or settings.worker_shutdown_grace_s,
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
