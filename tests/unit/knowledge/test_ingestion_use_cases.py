"""Ingestion (chunk → embed) and rebuild, from ``application/knowledge/ingestion.py`` and
``rebuild.py``, resolved from the container with in-memory adapters: one scope per job, as in the
worker."""

from __future__ import annotations

from uuid import UUID

import pytest
from dishka import AsyncContainer

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.memory.knowledge import KnowledgeStore
from kalamna.application.auth.principal import Principal
from kalamna.application.knowledge.entries import CreateEntry, DeleteEntry, UpdateEntry, Upload
from kalamna.application.knowledge.ingestion import (
    ChunkEntry,
    EmbedEntry,
    FailIngestion,
    IngestEntry,
    Outcome,
)
from kalamna.application.knowledge.rebuild import RebuildKnowledge
from kalamna.application.knowledge.retrieval import SearchKnowledge
from kalamna.domain.errors import InvalidInput, NotFound
from kalamna.domain.identity import Role
from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import EntryStatus, KnowledgeEntry
from kalamna.ports.jobs import INGEST_ENTRY
from kalamna.ports.knowledge import KnowledgeRepository
from tests.unit.container import WordHashEmbedder

ORG = new_id()
OTHER_ORG = new_id()
OWNER = Principal(new_id(), ORG, Role.OWNER, "jti", 0.0)
OTHER_OWNER = Principal(new_id(), OTHER_ORG, Role.OWNER, "jti-2", 0.0)
BAKERY = "\n\n".join(
    [
        "Our bakery opens at seven in the morning and closes at eight in the evening.",
        "Sourdough loaves are baked twice a day, at dawn and at noon.",
        "Gluten-free cakes must be ordered two days ahead by phone.",
    ]
)


async def create(container: AsyncContainer, content: str = BAKERY, by: Principal = OWNER) -> KnowledgeEntry:
    assert by.organization_id is not None
    async with container() as scope:
        return await (await scope.get(CreateEntry)).from_text(by, by.organization_id, "Bakery", content)


async def current(container: AsyncContainer, entry: KnowledgeEntry) -> KnowledgeEntry:
    async with container() as scope:
        found = await (await scope.get(KnowledgeRepository)).get(entry.organization_id, entry.id)
    assert found is not None
    return found


async def ingest(container: AsyncContainer, entry_id: UUID, version: int) -> Outcome:
    async with container() as scope:
        return await (await scope.get(IngestEntry))(entry_id, version)


async def chunks_of(container: AsyncContainer, entry_id: UUID) -> list[tuple[int, str, str | None]]:
    store = await container.get(KnowledgeStore)
    found = sorted(
        (c for c in store.chunks.values() if c.entry_id == entry_id), key=lambda c: c.chunk.position
    )
    return [(c.chunk.position, c.chunk.content, c.model) for c in found]


async def test_ingesting_makes_the_entry_ready_and_searchable(container: AsyncContainer) -> None:
    entry = await create(container)
    progress: list[float] = []

    async def record(value: float) -> None:
        progress.append(value)

    async with container() as scope:
        assert await (await scope.get(IngestEntry))(entry.id, 1, record) is Outcome.DONE
    ready = await current(container, entry)
    chunks = await chunks_of(container, entry.id)
    assert (ready.status, ready.embedding_model, ready.chunk_count, ready.error) == (
        EntryStatus.READY,
        WordHashEmbedder.model,
        len(chunks),
        None,
    )
    assert ready.token_count > 0
    assert [position for position, _, _ in chunks] == list(range(len(chunks)))
    assert {model for _, _, model in chunks} == {WordHashEmbedder.model}
    assert progress[0] == 0.5 and progress[-1] == 1.0
    async with container() as scope:
        hits = await (await scope.get(SearchKnowledge))(ORG, "When is the sourdough baked?", 5)
    assert hits and hits[0].entry_id == entry.id and "Sourdough" in hits[0].content


async def test_running_a_job_twice_changes_nothing(container: AsyncContainer) -> None:
    entry = await create(container)
    assert await ingest(container, entry.id, 1) is Outcome.DONE
    first = await chunks_of(container, entry.id)
    embedder = await container.get(WordHashEmbedder)
    embedded = len(embedder.passages)
    assert await ingest(container, entry.id, 1) is Outcome.DONE
    assert await chunks_of(container, entry.id) == first
    assert len(embedder.passages) == 2 * embedded  # re-chunked, so embedded again: same result
    assert (await current(container, entry)).chunk_count == len(first)


async def test_a_job_for_an_old_version_or_a_deleted_entry_writes_nothing(container: AsyncContainer) -> None:
    entry = await create(container)
    async with container() as scope:
        await (await scope.get(UpdateEntry))(OWNER, ORG, entry.id, title=None, content="Cakes to order.")
    assert await ingest(container, entry.id, 1) is Outcome.OUTDATED
    assert await chunks_of(container, entry.id) == []
    stale = await current(container, entry)
    assert (stale.status, stale.version) == (EntryStatus.PENDING, 2)
    assert await ingest(container, entry.id, 2) is Outcome.DONE

    async with container() as scope:
        await (await scope.get(DeleteEntry))(OWNER, ORG, entry.id)
    assert await ingest(container, entry.id, 2) is Outcome.OUTDATED
    assert (await container.get(KnowledgeStore)).chunks == {}


async def test_the_internal_stages_without_a_version_need_an_existing_entry(
    container: AsyncContainer,
) -> None:
    async with container() as scope:
        with pytest.raises(NotFound):
            await (await scope.get(ChunkEntry))(new_id())
    async with container() as scope:
        with pytest.raises(NotFound):
            await (await scope.get(EmbedEntry))(new_id())


async def test_an_embedder_failure_leaves_chunks_to_embed_and_a_retry_finishes(
    container: AsyncContainer,
) -> None:
    entry = await create(container)
    embedder = await container.get(WordHashEmbedder)
    embedder.fail = RuntimeError("model crashed")
    with pytest.raises(RuntimeError, match="model crashed"):
        await ingest(container, entry.id, 1)
    half = await current(container, entry)
    assert half.status is EntryStatus.PROCESSING
    assert {model for _, _, model in await chunks_of(container, entry.id)} == {None}

    embedder.fail = None
    async with container() as scope:
        report = await (await scope.get(EmbedEntry))(entry.id, 1)
    assert (report.outcome, report.embedded, report.embedding_model) == (
        Outcome.DONE,
        half.chunk_count,
        WordHashEmbedder.model,
    )
    assert (await current(container, entry)).status is EntryStatus.READY


async def test_a_file_without_text_fails_with_a_reason(container: AsyncContainer) -> None:
    async with container() as scope:
        entry = await (await scope.get(CreateEntry)).from_file(
            OWNER, ORG, Upload("blank.html", b"<html><body><script>x()</script></body></html>")
        )
    assert await ingest(container, entry.id, 1) is Outcome.FAILED
    failed = await current(container, entry)
    assert failed.status is EntryStatus.FAILED
    assert failed.error == "The document contains no text."
    assert await chunks_of(container, entry.id) == []


async def test_the_last_failed_retry_marks_the_entry_failed(container: AsyncContainer) -> None:
    entry = await create(container)
    async with container() as scope:
        await (await scope.get(FailIngestion))(entry.id, 1, RuntimeError("internal details"))
    failed = await current(container, entry)
    assert failed.status is EntryStatus.FAILED
    assert failed.error == (
        "A service it needs (database, queue or embedder) was unavailable. It will be retried "
        "automatically after 2026-11-22 09:05 UTC; editing the entry retries it now."
    )  # the reconciler retries it; internal details never reach the user
    async with container() as scope:
        await (await scope.get(FailIngestion))(entry.id, 1, InvalidInput("The content is empty."))
    assert (await current(container, entry)).error.startswith("The content is empty. It will be retried")
    async with container() as scope:  # a newer version is not failed by an older job
        await (await scope.get(UpdateEntry))(OWNER, ORG, entry.id, title=None, content="New text.")
    async with container() as scope:
        await (await scope.get(FailIngestion))(entry.id, 1, RuntimeError("late"))
    assert (await current(container, entry)).status is EntryStatus.PENDING


async def test_rebuild_queues_one_fresh_job_per_entry_in_scope(container: AsyncContainer) -> None:
    mine = [await create(container) for _ in range(2)]
    theirs = await create(container, by=OTHER_OWNER)
    jobs = await container.get(MemoryJobQueue)
    jobs.take()

    async def rebuild(organization_id: UUID | None, entry_id: UUID | None = None) -> set[str]:
        async with container() as scope:
            count = await (await scope.get(RebuildKnowledge))(
                organization_id=organization_id, entry_id=entry_id
            )
        taken = jobs.take()
        assert count == len(taken)
        assert all(job.task == INGEST_ENTRY and job.kwargs["version"] == 1 for job in taken)
        assert len({job.key for job in taken}) == len(taken)
        return {str(job.kwargs["entry_id"]) for job in taken}

    assert await rebuild(ORG) == {str(e.id) for e in mine}
    assert await rebuild(None) == {str(e.id) for e in [*mine, theirs]}
    assert await rebuild(ORG, mine[0].id) == {str(mine[0].id)}
    assert await rebuild(None, theirs.id) == {str(theirs.id)}
    assert await rebuild(ORG, mine[0].id) == {str(mine[0].id)}, "a second rebuild is queued again"
    with pytest.raises(NotFound):
        await rebuild(ORG, theirs.id)  # another organization's entry
    with pytest.raises(NotFound):
        await rebuild(None, new_id())
