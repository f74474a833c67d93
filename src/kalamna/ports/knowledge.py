"""Persistence and search ports of the knowledge base."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from kalamna.domain.knowledge import EntryStatus, IndexedChunk, KnowledgeEntry, SearchHit
from kalamna.domain.pages import Page, PageRequest


class KnowledgeRepository(Protocol):
    async def add(self, entry: KnowledgeEntry) -> None: ...

    async def get(self, organization_id: UUID, entry_id: UUID) -> KnowledgeEntry | None: ...

    async def get_for_update(self, entry_id: UUID) -> KnowledgeEntry | None:
        """Jobs: the entry by id, row-locked until the unit of work ends (serialises writers)."""
        ...

    async def save(self, entry: KnowledgeEntry) -> None: ...

    async def delete(self, organization_id: UUID, entry_id: UUID) -> None:
        """Deletes the entry and, in the same transaction, its chunks."""
        ...

    async def search(
        self, organization_id: UUID, *, status: EntryStatus | None, title_query: str | None, page: PageRequest
    ) -> Page[KnowledgeEntry]: ...

    async def ids_for_rebuild(self, organization_id: UUID | None) -> list[tuple[UUID, int]]:
        """(entry id, version) of every entry of an organization, or of all organizations."""
        ...

    async def needing_reconciliation(
        self, *, pending_before: datetime, processing_before: datetime, retry_due: datetime, limit: int
    ) -> list[UUID]:
        """Entries (oldest first) pending since before ``pending_before``, processing since before
        ``processing_before``, or failed with a retry due by ``retry_due``."""
        ...


class ChunkIndex(Protocol):
    async def replace(self, entry: KnowledgeEntry, chunks: Sequence[IndexedChunk]) -> None:
        """Swap the entry's chunks for these (no embeddings yet) in the current transaction."""
        ...

    async def pending_embeddings(self, entry_id: UUID, model: str) -> list[tuple[UUID, str]]:
        """(chunk id, content) of the entry's chunks without a vector from ``model``."""
        ...

    async def store_embeddings(self, model: str, vectors: dict[UUID, list[float]]) -> None: ...

    async def search(
        self,
        organization_id: UUID,
        *,
        query_vector: list[float],
        query_text: str,
        model: str,
        top_k: int,
        similarity_floor: float,
    ) -> list[SearchHit]: ...

    async def neighbours(
        self, organization_id: UUID, entry_id: UUID, positions: Sequence[int]
    ) -> list[SearchHit]:
        """Chunks of one entry at the given positions (for merging context), score 0."""
        ...


class BlobStore(Protocol):
    """Original uploaded files, kept so that a rebuild can extract them again."""

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


class DocumentSniffer(Protocol):
    """Cheap, in-process type check of an upload (extension and bytes). Returns the canonical MIME
    type or raises ``UnsupportedMediaType`` / ``UnreadableDocument``."""

    def content_type(self, data: bytes, filename: str) -> str: ...
