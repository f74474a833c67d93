"""The ``JobQueue`` port on SAQ. Task options (timeout, retries, backoff, heartbeat) live in
``TASK_OPTIONS`` so that producers and the worker agree on them."""

from __future__ import annotations

import asyncio
import logging
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

log = logging.getLogger("kalamna.queue")

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
    loaded test runs. This sweep is SAQ 0.26's (``RedisQueue.sweep``) except that such a job gets a
    second look ``TAKE_GRACE_S`` later: swept only if it is still in the active list and still not
    ``active`` (its worker was lost). Check it against SAQ's when upgrading SAQ.
    """

    TAKE_GRACE_S = 2.0

    def __init__(self, redis: Redis, **kwargs: Any) -> None:
        super().__init__(redis, **kwargs)
        self._active_snapshot = redis.register_script(_ACTIVE_SNAPSHOT)

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        snapshot = await self._active_snapshot(
            keys=[self._sweep, self._active], args=[lock], client=self.redis
        )
        jobs = {job_id: self.deserialize(job_bytes) for job_id, job_bytes in snapshot}
        if any(job is not None and job.status != Status.ACTIVE for job in jobs.values()):
            await asyncio.sleep(self.TAKE_GRACE_S)
            still_active = set(await cast("Awaitable[list[bytes]]", self.redis.lrange(self._active, 0, -1)))
            for job_id, job in list(jobs.items()):
                if job is not None and job.status != Status.ACTIVE:
                    if job_id not in still_active:
                        del jobs[job_id]  # finished or moved on meanwhile
                    else:
                        jobs[job_id] = await self._get_job_by_id(job_id)
        swept = []
        for job_id, job in jobs.items():
            if job is None:
                swept.append(job_id)
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.lrem(self._active, 0, job_id)
                    pipe.zrem(self._incomplete, job_id)
                    await pipe.execute()
                log.info("Sweeping missing job %s", job_id)
            elif job.status != Status.ACTIVE or job.stuck:
                log.info("Sweeping job %s", job.info())
                swept.append(job_id)
                await self.abort(job, error=self.swept_error_message)
                try:
                    await job.refresh(abort)
                except TimeoutError:
                    log.info("Could not abort job %s", job_id)
                if job.retryable:
                    await self.retry(job, error=self.swept_error_message)
                else:
                    await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        return [job_id.decode("utf-8") for job_id in swept]


# SAQ's own sweep snapshot: the active list's job ids with their saved jobs, at most once per ``lock``
# seconds across all workers (the ``sweep`` key).
_ACTIVE_SNAPSHOT = """
local id_jobs = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SETEX', KEYS[1], ARGV[1], 1)
    for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
        id_jobs[i] = {v, redis.call('GET', v)}
    end
end
return id_jobs
"""


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
