"""Ingestion against real PostgreSQL (and the in-memory adapters, same contract): idempotency by
entry version, crash mid-job then retry, and a change of embedding model followed by a rebuild."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from dishka import AsyncContainer, Provider, Scope
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.memory.knowledge import (
    KnowledgeStore,
)
from kalamna.adapters.postgres.chunk_index import ensure_vector_index
from kalamna.application.knowledge.ingestion import ChunkEntry, EmbedEntry, IngestEntry, Outcome
from kalamna.application.knowledge.rebuild import RebuildKnowledge
from kalamna.application.knowledge.retrieval import RetrievalSettings, SearchKnowledge
from kalamna.di import make_container
from kalamna.domain.identity import Organization, OrganizationStatus
from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import EntryStatus, KnowledgeEntry, SourceType
from kalamna.ports.ai import Embedder
from kalamna.ports.jobs import INGEST_ENTRY, JobQueue
from kalamna.ports.knowledge import ChunkIndex, KnowledgeRepository
from kalamna.ports.repositories import OrganizationRepository, UnitOfWork
from kalamna.worker.tasks import ingest_entry
from tests.embeddings_memo import MemoizedOfflineEmbedder
from tests.unit.container import memory_container

# Several short paragraphs so that a small chunk budget gives several chunks (positions matter).
TEXT_V1 = "\n\n".join(
    [
        "Our bakery opens at seven in the morning and closes at eight in the evening.",
        "Sourdough loaves are baked twice a day, at dawn and at noon.",
        "Gluten-free cakes must be ordered two days ahead by phone.",
        "Deliveries cover the old town for a flat fee of three euros.",
    ]
)
TEXT_V2 = "Birthday cakes can be decorated with a custom message written in chocolate icing."


class ControlledEmbedder:
    """The offline embedder, with switches to fail or to hang in the middle of a job, and an
    optional different model name (a second vector space made of the same numbers)."""

    def __init__(self, model: str | None = None) -> None:
        self._inner = MemoizedOfflineEmbedder()  # the model, each text embedded once per process
        self._model = model
        self.fail = False
        self.hang = False
        self.entered = asyncio.Event()
        self.passages = 0

    @property
    def model(self) -> str:
        return self._model or self._inner.model

    @property
    def dimensions(self) -> int:
        return self._inner.dimensions

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.entered.set()
        if self.fail:
            raise RuntimeError("embedding service exploded")
        if self.hang:
            await asyncio.Event().wait()
        self.passages += len(texts)
        return await self._inner.embed_passages(texts)

    async def embed_query(self, text: str) -> list[float]:
        return await self._inner.embed_query(text)


def embedder_provider(embedder: Embedder) -> Provider:
    provider = Provider(scope=Scope.APP)
    provider.provide(lambda: embedder, provides=Embedder, override=True)
    return provider


def small_chunks_settings(settings: Any) -> Any:
    import msgspec

    return msgspec.structs.replace(settings, chunk_target_tokens=32, chunk_overlap_tokens=0)


@dataclass
class Deps:
    entries: KnowledgeRepository
    index: ChunkIndex
    uow: UnitOfWork
    chunk: ChunkEntry
    embed: EmbedEntry
    ingest: IngestEntry


ChunkRow = tuple[int, str, int, str, str | None, tuple[float, ...] | None]


class Backend:
    name: str
    organization_id: UUID

    def scope(self) -> AbstractAsyncContextManager[Deps]:  # one per "job", as in the worker
        raise NotImplementedError

    async def chunk_rows(self, entry_id: UUID) -> list[ChunkRow]:
        raise NotImplementedError


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, container: AsyncContainer) -> None:
        self.container = container

    @asynccontextmanager
    async def scope(self) -> AsyncIterator[Deps]:
        async with self.container() as scope:
            yield Deps(
                await scope.get(KnowledgeRepository),
                await scope.get(ChunkIndex),
                await scope.get(UnitOfWork),
                await scope.get(ChunkEntry),
                await scope.get(EmbedEntry),
                await scope.get(IngestEntry),
            )

    async def chunk_rows(self, entry_id: UUID) -> list[ChunkRow]:
        async with self.container() as scope:
            session = await scope.get(AsyncSession)
            rows = await session.execute(
                text(
                    "SELECT position, content, token_count, search_text, embedding_model, "
                    "embedding::real[] AS embedding FROM knowledge_chunks WHERE entry_id = :e "
                    "ORDER BY position, id"
                ),
                {"e": entry_id},
            )
            return [
                (r.position, r.content, r.token_count, r.search_text, r.embedding_model,
                 tuple(r.embedding) if r.embedding is not None else None)
                for r in rows
            ]  # fmt: skip


class MemoryBackend(PostgresBackend):
    """The same use cases from the same container, with the in-memory adapters."""

    name = "memory"

    def __init__(self, container: AsyncContainer) -> None:
        super().__init__(container)
        self.organization_id = new_id()

    async def chunk_rows(self, entry_id: UUID) -> list[ChunkRow]:
        store = await self.container.get(KnowledgeStore)
        found = sorted(
            (c for c in store.chunks.values() if c.entry_id == entry_id),
            key=lambda c: c.chunk.position,
        )
        return [
            (
                c.chunk.position,
                c.chunk.content,
                c.chunk.token_count,
                c.chunk.search_text,
                c.model,
                tuple(round(v, 5) for v in c.embedding) if c.embedding is not None else None,
            )
            for c in found
        ]


async def add_organization(container: AsyncContainer, name: str = "Bakery") -> UUID:
    now = datetime.now(UTC)
    organization = Organization(new_id(), name, OrganizationStatus.ACTIVE, now, now)
    async with container() as scope:
        await (await scope.get(OrganizationRepository)).add(organization)
        await (await scope.get(UnitOfWork)).commit()
    return organization.id


async def add_entry(backend: Backend, title: str, content: str) -> KnowledgeEntry:
    now = datetime.now(UTC)
    entry = KnowledgeEntry(
        id=new_id(),
        organization_id=backend.organization_id,
        title=title,
        source_type=SourceType.TEXT,
        status=EntryStatus.PENDING,
        version=1,
        created_at=now,
        updated_at=now,
        content=content,
    )
    async with backend.scope() as deps:
        await deps.entries.add(entry)
        await deps.uow.commit()
    return entry


async def current(backend: Backend, entry: KnowledgeEntry) -> KnowledgeEntry:
    async with backend.scope() as deps:
        found = await deps.entries.get(entry.organization_id, entry.id)
        await deps.uow.rollback()
    assert found is not None
    return found


async def revise(backend: Backend, entry: KnowledgeEntry, content: str) -> KnowledgeEntry:
    async with backend.scope() as deps:
        found = await deps.entries.get(entry.organization_id, entry.id)
        assert found is not None
        assert found.revise(title=None, content=content, now=datetime.now(UTC))
        await deps.entries.save(found)
        await deps.uow.commit()
    return found


async def run_ingest(backend: Backend, entry_id: UUID, version: int) -> Outcome:
    async with backend.scope() as deps:
        return await deps.ingest(entry_id, version)


@pytest.fixture
async def embedder() -> ControlledEmbedder:
    return ControlledEmbedder()


@pytest.fixture(params=["postgres", "memory"])
async def backend(request, settings, clean_state, embedder) -> AsyncIterator[Backend]:  # type: ignore[no-untyped-def]
    settings = small_chunks_settings(settings)
    if request.param == "memory":
        memory = memory_container(settings, embedder_provider(embedder))
        try:
            yield MemoryBackend(memory)
        finally:
            await memory.close()
        return
    container = make_container(settings, embedder_provider(embedder))
    try:
        pg = PostgresBackend(container)
        pg.organization_id = await add_organization(container)
        yield pg
    finally:
        await container.close()


def without_vectors(rows: list[ChunkRow]) -> list[tuple[Any, ...]]:
    return [row[:5] for row in rows]


async def test_running_the_job_twice_for_one_version_gives_the_same_chunks(
    backend: Backend, embedder: ControlledEmbedder
) -> None:
    entry = await add_entry(backend, "Bakery hours", TEXT_V1)
    assert await run_ingest(backend, entry.id, 1) is Outcome.DONE
    first = await backend.chunk_rows(entry.id)
    ready = await current(backend, entry)
    assert ready.status is EntryStatus.READY
    assert ready.chunk_count == len(first) >= 2, "small chunk budget: several chunks expected"
    assert ready.embedding_model == embedder.model
    assert [row[0] for row in first] == list(range(len(first)))
    assert all(row[5] is not None and row[4] == embedder.model for row in first)

    assert await run_ingest(backend, entry.id, 1) is Outcome.DONE
    second = await backend.chunk_rows(entry.id)
    assert without_vectors(second) == without_vectors(first), "same text, same chunks, no duplicates"
    for a, b in zip(first, second, strict=True):
        assert a[5] is not None and b[5] is not None
        assert max(abs(x - y) for x, y in zip(a[5], b[5], strict=True)) < 1e-4
    again = await current(backend, entry)
    assert (again.status, again.chunk_count, again.token_count) == (
        EntryStatus.READY,
        ready.chunk_count,
        ready.token_count,
    )


async def test_a_job_for_an_outdated_version_writes_nothing(
    backend: Backend, embedder: ControlledEmbedder
) -> None:
    entry = await add_entry(backend, "Bakery hours", TEXT_V1)
    assert await run_ingest(backend, entry.id, 1) is Outcome.DONE
    before = await backend.chunk_rows(entry.id)
    revised = await revise(backend, entry, TEXT_V2)
    assert revised.version == 2
    embedded_so_far = embedder.passages

    assert await run_ingest(backend, entry.id, 1) is Outcome.OUTDATED  # the late job for version 1
    assert await backend.chunk_rows(entry.id) == before
    stale = await current(backend, entry)
    assert (stale.status, stale.version) == (EntryStatus.PENDING, 2)
    assert embedder.passages == embedded_so_far, "an outdated job must not even embed"

    assert await run_ingest(backend, entry.id, 2) is Outcome.DONE
    rows = await backend.chunk_rows(entry.id)
    assert len(rows) == 1 and "chocolate icing" in rows[0][1]
    assert (await current(backend, entry)).status is EntryStatus.READY


async def test_a_job_for_a_deleted_entry_writes_nothing(backend: Backend) -> None:
    entry = await add_entry(backend, "Bakery hours", TEXT_V1)
    async with backend.scope() as deps:
        await deps.entries.delete(entry.organization_id, entry.id)
        await deps.uow.commit()
    assert await run_ingest(backend, entry.id, 1) is Outcome.OUTDATED
    assert await backend.chunk_rows(entry.id) == []


async def test_an_embedder_crash_after_chunking_then_a_retry_converges(
    backend: Backend, embedder: ControlledEmbedder
) -> None:
    entry = await add_entry(backend, "Bakery hours", TEXT_V1)
    embedder.fail = True
    with pytest.raises(RuntimeError, match="exploded"):
        await run_ingest(backend, entry.id, 1)
    half_done = await backend.chunk_rows(entry.id)
    assert half_done and all(row[5] is None for row in half_done), "chunked, not embedded"
    assert (await current(backend, entry)).status is EntryStatus.PROCESSING

    embedder.fail = False
    assert await run_ingest(backend, entry.id, 1) is Outcome.DONE
    rows = await backend.chunk_rows(entry.id)
    assert without_vectors(rows) == [(*row[:4], embedder.model) for row in half_done]
    assert all(row[5] is not None for row in rows)
    done = await current(backend, entry)
    assert (done.status, done.chunk_count) == (EntryStatus.READY, len(rows))


async def test_a_job_cancelled_mid_embedding_then_retried_converges(
    backend: Backend, embedder: ControlledEmbedder
) -> None:
    entry = await add_entry(backend, "Bakery hours", TEXT_V1)
    embedder.hang = True
    job = asyncio.create_task(run_ingest(backend, entry.id, 1))
    await asyncio.wait_for(embedder.entered.wait(), 30)
    job.cancel()  # the worker is killed while the model runs
    with pytest.raises(asyncio.CancelledError):
        await job
    embedder.hang = False

    assert await run_ingest(backend, entry.id, 1) is Outcome.DONE
    assert await run_ingest(backend, entry.id, 1) is Outcome.DONE  # and a duplicate retry on top
    rows = await backend.chunk_rows(entry.id)
    positions = [row[0] for row in rows]
    assert positions == sorted(set(positions)) == list(range(len(rows)))
    assert all(row[5] is not None for row in rows)
    done = await current(backend, entry)
    assert (done.status, done.chunk_count) == (EntryStatus.READY, len(rows))


async def test_search_finds_an_ingested_entry_and_never_another_tenants(
    backend: Backend, embedder: ControlledEmbedder
) -> None:
    entry = await add_entry(backend, "Bakery hours", TEXT_V1)
    mine = backend.organization_id
    other = (
        await add_organization(backend.container, "Other bakery")
        if isinstance(backend, PostgresBackend)
        else new_id()
    )
    backend.organization_id = other
    theirs = await add_entry(backend, "Bakery hours", TEXT_V1)
    backend.organization_id = mine
    for e in (entry, theirs):
        assert await run_ingest(backend, e.id, 1) is Outcome.DONE
    async with backend.scope() as deps:
        search = SearchKnowledge(deps.index, embedder, RetrievalSettings(similarity_floor=0.75))
        hits = await search(mine, "When can I buy fresh bread?", top_k=10)
        await deps.uow.rollback()
    assert hits and {h.entry_id for h in hits} == {entry.id}
    assert all(0.0 <= h.score <= 1.0 for h in hits)


# --- embedding model change and rebuild (PostgreSQL only: it is about the vector index) ------------


async def run_jobs(container: AsyncContainer, jobs: MemoryJobQueue) -> None:
    for job in jobs.take():
        assert job.task == INGEST_ENTRY
        await ingest_entry({"container": container}, **job.kwargs)


@asynccontextmanager
async def model_container(
    settings: Any, embedder: Embedder, jobs: MemoryJobQueue
) -> AsyncIterator[AsyncContainer]:
    queue = Provider(scope=Scope.APP)
    queue.provide(lambda: jobs, provides=JobQueue, override=True)
    container = make_container(settings, embedder_provider(embedder), queue)
    try:
        await ensure_vector_index(await container.get(AsyncEngine), embedder.model, embedder.dimensions)
        yield container
    finally:
        await container.close()


async def search_in(container: AsyncContainer, organization_id: UUID, query: str) -> list[Any]:
    async with container() as scope:
        return await (await scope.get(SearchKnowledge))(organization_id, query, 10)


async def test_a_model_change_needs_a_rebuild_and_never_mixes_vector_spaces(settings, clean_state) -> None:  # type: ignore[no-untyped-def]
    jobs = MemoryJobQueue()
    model_a, model_b = ControlledEmbedder(), ControlledEmbedder(model="e5-small-renamed-for-tests")
    # No word (nor lexicon equivalent) in common with the text: only vectors can find it.
    question = "When can I come in to buy fresh bread?"
    async with (
        model_container(settings, model_a, jobs) as a,
        model_container(settings, model_b, jobs) as b,
    ):
        organization_id = await add_organization(a)
        pg = PostgresBackend(a)
        pg.organization_id = organization_id
        entry = await add_entry(pg, "Hours", "Our bakery welcomes customers from seven each morning.")
        assert await run_ingest(pg, entry.id, 1) is Outcome.DONE

        found = await search_in(a, organization_id, question)
        assert [h.entry_id for h in found] == [entry.id] and found[0].similarity > 0
        assert await search_in(b, organization_id, question) == [], "model B must not read model A vectors"

        async with b() as scope:
            queued = await (await scope.get(RebuildKnowledge))(organization_id=organization_id, entry_id=None)
        assert queued == 1
        await run_jobs(b, jobs)

        rebuilt = await current(pg, entry)
        assert (rebuilt.status, rebuilt.embedding_model) == (EntryStatus.READY, model_b.model)
        found = await search_in(b, organization_id, question)
        assert [h.entry_id for h in found] == [entry.id] and found[0].similarity > 0
        assert await search_in(a, organization_id, question) == []
        rows = await pg.chunk_rows(entry.id)
        assert rows and {row[4] for row in rows} == {model_b.model}

        async with b() as scope:
            plan = await (await scope.get(AsyncSession)).execute(
                text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'knowledge_chunks' "
                    "AND indexdef LIKE :pattern"
                ),
                {"pattern": f"%{model_b.model}%"},
            )
            assert plan.scalars().all(), "each model gets its own partial HNSW index"
