"""The ingestion reconciler and the transient-failure schedule, on in-memory adapters."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from kalamna.adapters.memory.identity import MemoryStore
from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.memory.knowledge import KnowledgeStore, MemoryKnowledgeRepository
from kalamna.adapters.memory.security import FixedClock
from kalamna.adapters.memory.store import MemoryUnitOfWork
from kalamna.application.knowledge.ingestion import FailIngestion
from kalamna.application.knowledge.reconcile import ReconcileIngestion, ReconcilePolicy
from kalamna.domain.errors import EmbedderUnavailable
from kalamna.domain.knowledge import EntryStatus, KnowledgeEntry, SourceType

POLICY = ReconcilePolicy(max_attempts=2)


def setup() -> tuple[
    MemoryKnowledgeRepository, MemoryJobQueue, FixedClock, ReconcileIngestion, FailIngestion
]:
    entries = MemoryKnowledgeRepository(KnowledgeStore())
    jobs = MemoryJobQueue()
    clock = FixedClock()
    uow = MemoryUnitOfWork(MemoryStore())
    return (
        entries,
        jobs,
        clock,
        ReconcileIngestion(entries, jobs, uow, clock, POLICY),
        FailIngestion(entries, uow, clock, POLICY),
    )


async def add(entries: MemoryKnowledgeRepository, clock: FixedClock, status: EntryStatus) -> KnowledgeEntry:
    now = clock.now()
    entry = KnowledgeEntry(uuid4(), uuid4(), "T", SourceType.TEXT, status, 1, now, now, content="text")
    await entries.add(entry)
    return entry


async def test_lost_pending_and_stuck_processing_entries_are_requeued_once() -> None:
    entries, jobs, clock, reconcile, _ = setup()
    pending = await add(entries, clock, EntryStatus.PENDING)
    processing = await add(entries, clock, EntryStatus.PROCESSING)
    ready = await add(entries, clock, EntryStatus.READY)

    clock.advance(timedelta(minutes=11))  # pending is overdue, processing is not yet
    report = await reconcile()
    assert (report.requeued, report.gave_up) == (1, 0)
    assert [(j.key, j.kwargs) for j in jobs.jobs] == [
        (f"ingest:{pending.id}:1", {"entry_id": str(pending.id), "version": 1})
    ]
    # Its job is still queued: the next run neither doubles it nor counts an attempt.
    clock.advance(timedelta(minutes=11))
    assert (await reconcile()).requeued == 0
    assert len(jobs.jobs) == 1

    clock.advance(timedelta(minutes=60))  # processing for longer than the job's timeout
    jobs.take()
    report = await reconcile()
    assert report.requeued == 2  # the stuck one, and the pending one whose job vanished
    stuck = await entries.get_for_update(processing.id)
    assert stuck is not None
    assert (stuck.status, stuck.ingest_attempts) == (EntryStatus.PENDING, 1)
    assert (await entries.get_for_update(ready.id)).status is EntryStatus.READY  # type: ignore[union-attr]


async def test_attempts_are_bounded_and_the_final_reason_says_what_to_do() -> None:
    entries, jobs, clock, reconcile, _ = setup()
    entry = await add(entries, clock, EntryStatus.PENDING)
    for _ in range(POLICY.max_attempts):
        clock.advance(timedelta(minutes=11))
        jobs.take()
        assert (await reconcile()).requeued == 1
    clock.advance(timedelta(minutes=11))
    jobs.take()
    report = await reconcile()
    assert (report.requeued, report.gave_up) == (0, 1)
    final = await entries.get_for_update(entry.id)
    assert final is not None
    assert final.status is EntryStatus.FAILED
    assert final.retry_at is None
    assert final.error is not None
    assert "after 3 attempts" in final.error
    assert "edit the entry" in final.error
    assert jobs.jobs == []


async def test_a_transient_failure_is_retried_after_the_backoff() -> None:
    entries, _jobs, clock, reconcile, fail = setup()
    entry = await add(entries, clock, EntryStatus.PROCESSING)
    await fail(entry.id, 1, EmbedderUnavailable())
    failed = await entries.get_for_update(entry.id)
    assert failed is not None
    assert failed.status is EntryStatus.FAILED
    assert failed.retry_at == clock.now() + timedelta(minutes=5)
    assert failed.error is not None
    assert failed.error.startswith("The embedding service is unavailable. It will be retried automatically")

    clock.advance(timedelta(minutes=4))
    assert (await reconcile()).requeued == 0
    clock.advance(timedelta(minutes=1))
    assert (await reconcile()).requeued == 1
    again = await entries.get_for_update(entry.id)
    assert again is not None
    assert (again.status, again.error, again.retry_at, again.ingest_attempts) == (
        EntryStatus.PENDING,
        None,
        None,
        1,
    )
    # The second failure waits longer; a failure after the last attempt is final.
    await fail(entry.id, 1, EmbedderUnavailable())
    second = await entries.get_for_update(entry.id)
    assert second is not None and second.retry_at == clock.now() + timedelta(minutes=15)
    second.ingest_attempts = POLICY.max_attempts
    await entries.save(second)
    await fail(entry.id, 1, RuntimeError("connection refused"))
    final = await entries.get_for_update(entry.id)
    assert final is not None
    assert (final.status, final.retry_at) == (EntryStatus.FAILED, None)
    assert final.error is not None and "database, queue or embedder" in final.error


async def test_an_edit_resets_the_attempts() -> None:
    entries, _, clock, _, _ = setup()
    entry = await add(entries, clock, EntryStatus.FAILED)
    entry.ingest_attempts = 4
    entry.retry_at = clock.now()
    assert entry.revise(title=None, content="new text", now=clock.now())
    assert (entry.ingest_attempts, entry.retry_at, entry.status) == (0, None, EntryStatus.PENDING)
