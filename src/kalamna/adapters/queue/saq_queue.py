"""The ``JobQueue`` port on SAQ. Task options (timeout, retries, backoff, heartbeat) live in
``TASK_OPTIONS`` so that producers and the worker agree on them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from saq import Queue
from saq.job import Status
from saq.queue.redis import RedisQueue

from kalamna.domain.errors import DependencyUnavailable
from kalamna.ports import jobs

# SAQ's defaults are a 10 s timeout and one retry: every task states its own.
TASK_OPTIONS: dict[str, dict[str, Any]] = {
    # A mail job carries only its outbox id; delivery is idempotent, so retries are safe.
    jobs.DELIVER_EMAIL: {"timeout": 30, "retries": 6, "retry_delay": 2.0, "retry_backoff": True, "ttl": 60},
    # The account lookups behind forgot-password and resend-verification (they carry an email).
    jobs.REQUEST_PASSWORD_RESET: {
        "timeout": 30,
        "retries": 3,
        "retry_delay": 2.0,
        "retry_backoff": True,
        "ttl": 60,
    },
    # Writes the "a customer is waiting" mails to the outbox (keyed per conversation).
    jobs.NOTIFY_WAITING_STAFF: {
        "timeout": 30,
        "retries": 3,
        "retry_delay": 2.0,
        "retry_backoff": True,
        "ttl": 600,
    },
    jobs.RESEND_VERIFICATION: {
        "timeout": 30,
        "retries": 3,
        "retry_delay": 2.0,
        "retry_backoff": True,
        "ttl": 60,
    },
    # Big documents embed for minutes offline; progress updates keep the heartbeat fresh. Retries
    # back off over minutes (full jitter, base 60 s, at most 10 min apart) so that a short database
    # or embedder outage is ridden out; after the last one the reconciler takes over.
    jobs.INGEST_ENTRY: {
        "timeout": 3600,
        "retries": 4,
        "retry_delay": 60.0,
        "retry_backoff": 600,
        "heartbeat": 300,
    },
    # One attempt per job (10 s HTTP timeout); the use case schedules the next attempt itself, so
    # these retries only cover infrastructure errors. Done jobs are kept an hour (key dedup).
    jobs.DELIVER_WEBHOOK: {
        "timeout": 60,
        "retries": 3,
        "retry_delay": 5.0,
        "retry_backoff": True,
        "ttl": 3600,
    },
    # The cron sweeper of webhook deliveries whose attempt job was lost (worker/webhook_tasks.py).
    jobs.REQUEUE_WEBHOOK_DELIVERIES: {"timeout": 60, "retries": 1, "ttl": 600},
    # Re-queues lost, timed-out and transiently failed ingestions (worker/maintenance.py).
    jobs.RECONCILE_INGESTION: {"timeout": 300, "retries": 1, "ttl": 600},
    # The minute cron job that re-queues mails whose job was lost (worker/runner.py).
    jobs.REQUEUE_UNSENT_MAIL: {"timeout": 60},
    # Per-tenant vector index builds (worker/maintenance.py): a large tenant's build takes minutes;
    # a retry after an infrastructure error rebuilds what was left INVALID.
    jobs.TENANT_VECTOR_INDEXES: {"timeout": 6 * 3600, "retries": 1, "ttl": 600},
}
DEFAULT_OPTIONS: dict[str, Any] = {"timeout": 60, "retries": 3, "retry_delay": 1.0, "retry_backoff": True}


def make_queue(redis_url: str, name: str) -> Queue:
    # Built by hand because SAQ's from_url() refuses unix:// URLs. No socket_timeout here: the
    # worker blocks on BLMOVE for longer than any sane read timeout.
    return PatientSweepQueue(Redis.from_url(redis_url, socket_connect_timeout=2), name=name)


class PatientSweepQueue(RedisQueue):
    """SAQ's Redis queue, whose sweep spares the jobs a worker is just taking.

    A worker takes a job in two steps: ``BLMOVE`` moves it to the active list, then the job is saved
    as ``active``. SAQ's sweep aborts every job of the active list that is not ``active``, so a sweep
    falling between the two steps aborted a job that was starting normally (and failed it, on its
    last attempt). It happened at worker start, when the first sweep meets the first jobs: seen in
    loaded test runs. Here, when the active list holds such jobs, the sweep waits
    ``TAKE_GRACE_S`` first; a job still not ``active`` by then was lost by its worker and is swept.
    """

    TAKE_GRACE_S = 2.0

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        if await self._jobs_being_taken():
            await asyncio.sleep(self.TAKE_GRACE_S)
        return await super().sweep(lock, abort)

    async def _jobs_being_taken(self) -> bool:
        job_ids: list[bytes] = await cast("Awaitable[list[bytes]]", self.redis.lrange(self._active, 0, -1))
        if not job_ids:
            return False
        for job_bytes in await self.redis.mget(job_ids):
            job = self.deserialize(job_bytes)
            if job is not None and job.status is not Status.ACTIVE:
                return True
        return False


class SaqJobQueue:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    async def enqueue(self, task: str, *, key: str | None = None, **kwargs: Any) -> bool:
        options = {**DEFAULT_OPTIONS, **TASK_OPTIONS.get(task, {})}
        if key is not None:
            options["key"] = key
        try:
            return await self._queue.enqueue(task, **options, **kwargs) is not None
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise DependencyUnavailable("The job queue is unavailable.") from exc


class QueueProbe:
    """The queue is usable when its Redis answers and its bookkeeping can be read."""

    name = "queue"
    required = True

    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    async def check(self) -> None:
        try:
            await self._queue.count("queued")
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise ConnectionError(str(exc)) from exc
