"""Ingestion: extract → chunk → embed → index, in two stages that the internal API exposes too.

Idempotent by entry version: every write happens with the entry row locked and its version checked,
chunks are replaced (deleted and inserted) in one transaction, and a job for an outdated version
exits without writing. A crash between stages leaves either the old or the new chunks, never both.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from kalamna.application.knowledge.reconcile import ReconcilePolicy, gave_up_reason
from kalamna.domain.errors import (
    DomainError,
    NotFound,
    PayloadTooLarge,
    UnreadableDocument,
    UnsupportedMediaType,
)
from kalamna.domain.knowledge import EntryStatus, IndexedChunk, KnowledgeEntry, SourceType
from kalamna.domain.terms import search_document
from kalamna.domain.webhooks import WebhookEvent
from kalamna.ports.ai import Embedder
from kalamna.ports.knowledge import BlobStore, ChunkIndex, KnowledgeRepository
from kalamna.ports.knowledge_processing import Chunker, TextExtractor
from kalamna.ports.repositories import UnitOfWork
from kalamna.ports.security import Clock
from kalamna.ports.webhooks import WebhookEvents

log = logging.getLogger("kalamna.knowledge")
EMBED_BATCH = 64  # texts per embedder call; progress (and the job heartbeat) after each
Progress = Callable[[float], Awaitable[None]]


class Outcome(StrEnum):
    DONE = "done"
    OUTDATED = "outdated"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChunkReport:
    entry_id: UUID
    chunk_count: int
    token_count: int
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class EmbedReport:
    entry_id: UUID
    embedded: int
    embedding_model: str
    outcome: Outcome


async def _announce(events: WebhookEvents | None, entry: KnowledgeEntry) -> None:
    """``knowledge.entry_ready`` / ``knowledge.entry_failed``, after the change is committed."""
    if events is None:
        return
    data = {
        "entry_id": str(entry.id),
        "title": entry.title,
        "status": entry.status.value,
        "error": entry.error,
        "chunk_count": entry.chunk_count,
        "token_count": entry.token_count,
        "embedding_model": entry.embedding_model,
    }
    ready = entry.status is EntryStatus.READY
    event = WebhookEvent.KNOWLEDGE_ENTRY_READY if ready else WebhookEvent.KNOWLEDGE_ENTRY_FAILED
    await events.publish(entry.organization_id, event, data)


class _Locked:
    def __init__(self, entries: KnowledgeRepository, uow: UnitOfWork) -> None:
        self._entries = entries
        self._uow = uow

    async def current(self, entry_id: UUID, version: int | None) -> KnowledgeEntry | None:
        """The entry, locked, if it still exists at ``version`` (any version when None)."""
        entry = await self._entries.get_for_update(entry_id)
        if entry is None or (version is not None and entry.version != version):
            await self._uow.rollback()
            return None
        return entry


class ChunkEntry(_Locked):
    def __init__(
        self,
        entries: KnowledgeRepository,
        index: ChunkIndex,
        blobs: BlobStore,
        extractor: TextExtractor,
        chunker: Chunker,
        uow: UnitOfWork,
        clock: Clock,
        events: WebhookEvents | None = None,
    ) -> None:
        super().__init__(entries, uow)
        self._index = index
        self._blobs = blobs
        self._extractor = extractor
        self._chunker = chunker
        self._clock = clock
        self._events = events

    async def __call__(self, entry_id: UUID, version: int | None = None) -> ChunkReport:
        entry = await self.current(entry_id, version)
        if entry is None:
            if version is None:
                raise NotFound()
            return ChunkReport(entry_id, 0, 0, Outcome.OUTDATED)
        version = entry.version
        entry.start_processing(self._clock.now())
        await self._entries.save(entry)
        await self._uow.commit()  # releases the lock while we extract, which may take a while
        try:
            text = await self._text_of(entry)
            chunks = self._chunker.chunk(entry.title, text)
            if not chunks:
                raise UnreadableDocument("No text could be found in this entry.")
        except (UnreadableDocument, UnsupportedMediaType, PayloadTooLarge) as exc:
            await self._fail(entry_id, version, exc.detail)
            return ChunkReport(entry_id, 0, 0, Outcome.FAILED)
        entry = await self.current(entry_id, version)
        if entry is None:
            return ChunkReport(entry_id, 0, 0, Outcome.OUTDATED)
        if entry.source_type is SourceType.FILE:
            entry.content = text
        indexed = [
            IndexedChunk(c.position, c.content, c.token_count, search_document(c.content)) for c in chunks
        ]
        await self._index.replace(entry, indexed)
        entry.chunked(
            chunk_count=len(chunks), token_count=sum(c.token_count for c in chunks), now=self._clock.now()
        )
        await self._entries.save(entry)
        await self._uow.commit()
        return ChunkReport(entry_id, entry.chunk_count, entry.token_count, Outcome.DONE)

    async def _text_of(self, entry: KnowledgeEntry) -> str:
        if entry.blob_key is None:
            return entry.content
        data = await self._blobs.get(entry.blob_key)
        document = await self._extractor.extract(data, entry.filename or "upload", entry.content_type)
        return document.text

    async def _fail(self, entry_id: UUID, version: int, reason: str) -> None:
        entry = await self.current(entry_id, version)
        if entry is None:
            return
        entry.fail(reason, self._clock.now())
        await self._entries.save(entry)
        await self._uow.commit()
        log.info("ingestion failed", extra={"entry_id": str(entry_id), "reason": reason})
        await _announce(self._events, entry)


class EmbedEntry(_Locked):
    def __init__(
        self,
        entries: KnowledgeRepository,
        index: ChunkIndex,
        embedder: Embedder,
        uow: UnitOfWork,
        clock: Clock,
        events: WebhookEvents | None = None,
    ) -> None:
        super().__init__(entries, uow)
        self._index = index
        self._embedder = embedder
        self._clock = clock
        self._events = events

    async def __call__(
        self, entry_id: UUID, version: int | None = None, on_progress: Progress | None = None
    ) -> EmbedReport:
        model = self._embedder.model
        pending = await self._index.pending_embeddings(entry_id, model)
        await self._uow.rollback()  # no transaction held while the model works
        vectors: dict[UUID, list[float]] = {}
        for start in range(0, len(pending), EMBED_BATCH):
            batch = pending[start : start + EMBED_BATCH]
            embedded = await self._embedder.embed_passages([content for _, content in batch])
            vectors.update({chunk_id: vector for (chunk_id, _), vector in zip(batch, embedded, strict=True)})
            if on_progress is not None:
                await on_progress(0.5 + 0.5 * len(vectors) / len(pending))
        entry = await self.current(entry_id, version)
        if entry is None:
            if version is None:
                raise NotFound()
            return EmbedReport(entry_id, 0, model, Outcome.OUTDATED)
        await self._index.store_embeddings(model, vectors)
        if entry.chunk_count > 0:
            entry.ready(embedding_model=model, now=self._clock.now())
            await self._entries.save(entry)
        await self._uow.commit()
        if entry.chunk_count > 0:
            await _announce(self._events, entry)
        return EmbedReport(entry_id, len(vectors), model, Outcome.DONE)


class IngestEntry:
    """The job: chunk, then embed, for one entry version."""

    def __init__(self, chunk: ChunkEntry, embed: EmbedEntry) -> None:
        self._chunk = chunk
        self._embed = embed

    async def __call__(self, entry_id: UUID, version: int, on_progress: Progress | None = None) -> Outcome:
        report = await self._chunk(entry_id, version)
        if report.outcome is not Outcome.DONE:
            return report.outcome
        if on_progress is not None:
            await on_progress(0.5)
        return (await self._embed(entry_id, version, on_progress)).outcome


class FailIngestion(_Locked):
    """Called when the job has used its last retry: the entry says so instead of spinning forever.

    Failures that reach this point are transient (a document that cannot be read fails inside
    ``ChunkEntry`` without retries): the entry is ``failed`` with ``retry_at`` set, and the
    reconciler queues it again then — until the policy's attempts are spent.
    """

    def __init__(
        self,
        entries: KnowledgeRepository,
        uow: UnitOfWork,
        clock: Clock,
        policy: ReconcilePolicy,
        events: WebhookEvents | None = None,
    ) -> None:
        super().__init__(entries, uow)
        self._clock = clock
        self._policy = policy
        self._events = events

    async def __call__(self, entry_id: UUID, version: int, error: DomainError | Exception) -> None:
        entry = await self.current(entry_id, version)
        if entry is None:
            return
        now = self._clock.now()
        cause = (
            error.detail
            if isinstance(error, DomainError)
            else "A service it needs (database, queue or embedder) was unavailable."
        )
        if entry.ingest_attempts >= self._policy.max_attempts:
            entry.fail(gave_up_reason(entry, cause), now)
        else:
            retry_at = now + self._policy.retry_delay(entry.ingest_attempts)
            entry.fail(
                f"{cause} It will be retried automatically after {retry_at:%Y-%m-%d %H:%M} UTC; "
                "editing the entry retries it now.",
                now,
                retry_at=retry_at,
            )
        await self._entries.save(entry)
        await self._uow.commit()
        await _announce(self._events, entry)
