"""The ingestion reconciler: no entry stays ``pending`` or ``processing`` forever, and a transient
failure (embedder or database outage) is retried later without waiting for a user's edit.

Runs as a scheduled job and at worker start (``worker/maintenance.py``). An entry is re-queued when

- it is ``pending`` for longer than ``pending_after`` (its job was lost — Redis lost it, or the
  process died between saving the entry and queueing the job);
- it is ``processing`` for longer than ``processing_after`` (the job's timeout plus its heartbeat:
  the worker died, or the step that marks it ``failed`` could not reach the database);
- it ``failed`` transiently and its ``retry_at`` has come.

Re-queueing uses the version's job key, so a job that is still queued, running or waiting for a
retry is never doubled (and the entry is left alone). Each re-queue counts one attempt; after
``max_attempts`` the entry fails for good with a reason the user can act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kalamna.application.knowledge.entries import queue_ingestion
from kalamna.domain.knowledge import EntryStatus, KnowledgeEntry
from kalamna.ports.jobs import JobQueue
from kalamna.ports.knowledge import KnowledgeRepository
from kalamna.ports.repositories import UnitOfWork
from kalamna.ports.security import Clock

log = logging.getLogger("kalamna.knowledge")


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    pending_after: timedelta = timedelta(minutes=10)
    processing_after: timedelta = timedelta(seconds=3600 + 300)  # ingest_entry timeout + heartbeat
    max_attempts: int = 5
    # Delay before the reconciler retries a transient failure, by attempts already made.
    retry_delays: tuple[timedelta, ...] = field(
        default=(
            timedelta(minutes=5),
            timedelta(minutes=15),
            timedelta(minutes=45),
            timedelta(hours=2),
            timedelta(hours=6),
        )
    )
    batch: int = 500

    def retry_delay(self, attempts: int) -> timedelta:
        return self.retry_delays[min(attempts, len(self.retry_delays) - 1)]


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    requeued: int
    gave_up: int
    skipped: int


def gave_up_reason(entry: KnowledgeEntry, last_error: str | None) -> str:
    cause = f" Last error: {last_error}" if last_error else ""
    return (
        f"Processing did not succeed after {entry.ingest_attempts + 1} attempts.{cause} "
        "Check that the embedding service is reachable (GET /api/v1/health), then edit the entry "
        "or upload the file again to retry."
    )


class ReconcileIngestion:
    def __init__(
        self,
        entries: KnowledgeRepository,
        jobs: JobQueue,
        uow: UnitOfWork,
        clock: Clock,
        policy: ReconcilePolicy,
    ) -> None:
        self._entries = entries
        self._jobs = jobs
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def __call__(self) -> ReconcileReport:
        now = self._clock.now()
        ids = await self._entries.needing_reconciliation(
            pending_before=now - self._policy.pending_after,
            processing_before=now - self._policy.processing_after,
            retry_due=now,
            limit=self._policy.batch,
        )
        await self._uow.rollback()
        requeued = gave_up = skipped = 0
        for entry_id in ids:
            entry = await self._entries.get_for_update(entry_id)  # re-checked under the row lock
            if entry is None or not self._due(entry, now):
                await self._uow.rollback()
                skipped += 1
                continue
            if entry.ingest_attempts >= self._policy.max_attempts:
                entry.fail(gave_up_reason(entry, entry.error), now)
                gave_up += 1
            elif await queue_ingestion(self._jobs, entry):
                entry.requeued(now)
                requeued += 1
            else:  # its job is still queued, running or waiting for a retry
                await self._uow.rollback()
                skipped += 1
                continue
            await self._entries.save(entry)
            await self._uow.commit()
            log.info(
                "ingestion reconciled",
                extra={
                    "entry_id": str(entry.id),
                    "status": entry.status.value,
                    "attempts": entry.ingest_attempts,
                },
            )
        return ReconcileReport(requeued=requeued, gave_up=gave_up, skipped=skipped)

    def _due(self, entry: KnowledgeEntry, now: datetime) -> bool:
        if entry.status is EntryStatus.PENDING:
            return entry.updated_at < now - self._policy.pending_after
        if entry.status is EntryStatus.PROCESSING:
            return entry.updated_at < now - self._policy.processing_after
        if entry.status is EntryStatus.FAILED:
            return entry.retry_at is not None and entry.retry_at <= now
        return False
