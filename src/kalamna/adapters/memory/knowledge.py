"""In-memory knowledge repository, chunk index and blob store for unit tests of the use cases."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from kalamna.adapters.memory.store import Transactional
from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import EntryStatus, IndexedChunk, KnowledgeEntry, SearchHit
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.search_query import RRF_K, text_query


@dataclass
class StoredChunk:
    id: UUID
    organization_id: UUID
    entry_id: UUID
    chunk: IndexedChunk
    embedding: list[float] | None = None
    model: str | None = None


@dataclass
class KnowledgeStore(Transactional):
    outside_transactions = ("blobs",)  # files, like the local or S3 blob store: no rollback

    entries: dict[UUID, KnowledgeEntry] = field(default_factory=dict)
    chunks: dict[UUID, StoredChunk] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)


class MemoryKnowledgeRepository:
    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    async def add(self, entry: KnowledgeEntry) -> None:
        self._store.entries[entry.id] = replace(entry)

    async def get(self, organization_id: UUID, entry_id: UUID) -> KnowledgeEntry | None:
        found = self._store.entries.get(entry_id)
        return replace(found) if found and found.organization_id == organization_id else None

    async def get_for_update(self, entry_id: UUID) -> KnowledgeEntry | None:
        found = self._store.entries.get(entry_id)
        return replace(found) if found else None

    async def save(self, entry: KnowledgeEntry) -> None:
        if entry.id not in self._store.entries:
            raise LookupError(entry.id)
        self._store.entries[entry.id] = replace(entry)

    async def delete(self, organization_id: UUID, entry_id: UUID) -> None:
        found = self._store.entries.get(entry_id)
        if found and found.organization_id == organization_id:
            del self._store.entries[entry_id]
            for chunk_id in [c.id for c in self._store.chunks.values() if c.entry_id == entry_id]:
                del self._store.chunks[chunk_id]

    async def search(
        self, organization_id: UUID, *, status: EntryStatus | None, title_query: str | None, page: PageRequest
    ) -> Page[KnowledgeEntry]:
        found = [
            replace(e)
            for e in sorted(self._store.entries.values(), key=lambda e: (e.created_at, e.id), reverse=True)
            if e.organization_id == organization_id
            and (status is None or e.status is status)
            and (not title_query or title_query.lower() in e.title.lower())
        ]
        return Page(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)

    async def ids_for_rebuild(self, organization_id: UUID | None) -> list[tuple[UUID, int]]:
        return sorted(
            (e.id, e.version)
            for e in self._store.entries.values()
            if organization_id is None or e.organization_id == organization_id
        )

    async def needing_reconciliation(
        self, *, pending_before: datetime, processing_before: datetime, retry_due: datetime, limit: int
    ) -> list[UUID]:
        due = [
            e
            for e in self._store.entries.values()
            if (e.status is EntryStatus.PENDING and e.updated_at < pending_before)
            or (e.status is EntryStatus.PROCESSING and e.updated_at < processing_before)
            or (e.status is EntryStatus.FAILED and e.retry_at is not None and e.retry_at <= retry_due)
        ]
        return [e.id for e in sorted(due, key=lambda e: e.updated_at)][:limit]


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


class MemoryChunkIndex:
    """Exact search with the same fusion and scoring rules as the PostgreSQL index."""

    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    async def replace(self, entry: KnowledgeEntry, chunks: Sequence[IndexedChunk]) -> None:
        for chunk_id in [c.id for c in self._store.chunks.values() if c.entry_id == entry.id]:
            del self._store.chunks[chunk_id]
        for chunk in chunks:
            stored = StoredChunk(new_id(), entry.organization_id, entry.id, chunk)
            self._store.chunks[stored.id] = stored

    async def pending_embeddings(self, entry_id: UUID, model: str) -> list[tuple[UUID, str]]:
        return [
            (c.id, c.chunk.content)
            for c in sorted(self._store.chunks.values(), key=lambda c: c.chunk.position)
            if c.entry_id == entry_id and (c.embedding is None or c.model != model)
        ]

    async def store_embeddings(self, model: str, vectors: dict[UUID, list[float]]) -> None:
        for chunk_id, vector in vectors.items():
            if chunk_id in self._store.chunks:
                self._store.chunks[chunk_id].embedding = vector
                self._store.chunks[chunk_id].model = model

    async def search(
        self,
        organization_id: UUID,
        *,
        query_vector: list[float],
        query_text: str,
        model: str,
        top_k: int,
        similarity_floor: float,
    ) -> list[SearchHit]:
        mine = [c for c in self._store.chunks.values() if c.organization_id == organization_id]
        by_vector = sorted(
            (
                (c, _cosine(c.embedding, query_vector))
                for c in mine
                if c.embedding is not None and c.model == model
            ),
            key=lambda pair: pair[1],
            reverse=True,
        )[:40]
        query = text_query(query_text)  # minimum should match, like the PostgreSQL index
        matches = (
            [(c, query.matched(set(c.chunk.search_text.split()))) for c in mine] if query is not None else []
        )
        by_words = [
            (c, matched / len(query.groups))
            for c, matched in sorted(matches, key=lambda pair: pair[1], reverse=True)
            if query is not None and matched >= query.minimum
        ][:40]
        fused: dict[UUID, float] = {}
        for rank, (c, _) in enumerate(by_vector, 1):
            fused[c.id] = fused.get(c.id, 0.0) + 1 / (RRF_K + rank)
        for rank, (c, _) in enumerate(by_words, 1):
            fused[c.id] = fused.get(c.id, 0.0) + 1 / (RRF_K + rank)
        sims = {c.id: s for c, s in by_vector}
        words = {c.id: w for c, w in by_words}
        span = max(1e-6, 1.0 - similarity_floor)
        hits = []
        for chunk_id in sorted(fused, key=lambda i: fused[i], reverse=True)[:top_k]:
            stored = self._store.chunks[chunk_id]
            similarity = min(1.0, max(0.0, (sims.get(chunk_id, similarity_floor) - similarity_floor) / span))
            keyword = min(1.0, words.get(chunk_id, 0.0))
            entry = self._store.entries[stored.entry_id]
            hits.append(
                SearchHit(
                    chunk_id,
                    stored.entry_id,
                    entry.title,
                    stored.chunk.content,
                    stored.chunk.position,
                    stored.chunk.token_count,
                    round(0.7 * similarity + 0.3 * keyword, 4),
                    round(similarity, 4),
                    round(keyword, 4),
                )
            )
        return hits

    async def neighbours(
        self, organization_id: UUID, entry_id: UUID, positions: Sequence[int]
    ) -> list[SearchHit]:
        entry = self._store.entries.get(entry_id)
        return [
            SearchHit(
                c.id,
                c.entry_id,
                entry.title if entry else "",
                c.chunk.content,
                c.chunk.position,
                c.chunk.token_count,
                0.0,
                0.0,
                0.0,
            )
            for c in self._store.chunks.values()
            if c.organization_id == organization_id
            and c.entry_id == entry_id
            and c.chunk.position in positions
        ]


class MemoryBlobStore:
    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    async def put(self, key: str, data: bytes) -> None:
        self._store.blobs[key] = bytes(data)

    async def get(self, key: str) -> bytes:
        if key not in self._store.blobs:
            raise FileNotFoundError(key)
        return self._store.blobs[key]

    async def delete(self, key: str) -> None:
        self._store.blobs.pop(key, None)
