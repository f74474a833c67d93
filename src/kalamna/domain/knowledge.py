"""Knowledge entries and their ingestion lifecycle: ``pending → processing → ready | failed``.

Every content change bumps ``version``; ingestion jobs carry the version they were queued for and
write nothing when the entry has moved on, so a late or retried job never clobbers newer work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from kalamna.domain.errors import InvalidInput

MAX_TITLE_LENGTH = 300
MAX_TEXT_LENGTH = 2_000_000  # characters of typed or extracted text per entry


class EntryStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class SourceType(StrEnum):
    TEXT = "text"
    FILE = "file"


@dataclass(slots=True)
class KnowledgeEntry:
    id: UUID
    organization_id: UUID
    title: str
    source_type: SourceType
    status: EntryStatus
    version: int
    created_at: datetime
    updated_at: datetime
    content: str = ""
    created_by: UUID | None = None
    filename: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    blob_key: str | None = None
    error: str | None = None
    chunk_count: int = 0
    token_count: int = 0
    embedding_model: str | None = None
    # How often the reconciler re-queued this version, and when a transient failure is retried.
    ingest_attempts: int = 0
    retry_at: datetime | None = None

    def revise(self, *, title: str | None, content: str | None, now: datetime) -> bool:
        """Apply an edit; True when it changes what is indexed (and so needs re-ingestion)."""
        changed = False
        if title is not None and clean_title(title) != self.title:
            self.title = clean_title(title)
            changed = True
        if content is not None and content != self.content:
            check_text(content)
            self.content = content
            self.source_type = SourceType.TEXT if self.blob_key is None else self.source_type
            changed = True
        if changed:
            self.version += 1
            self.status = EntryStatus.PENDING
            self.error = None
            self.ingest_attempts = 0
            self.retry_at = None
        self.updated_at = now
        return changed

    def start_processing(self, now: datetime) -> None:
        self.status = EntryStatus.PROCESSING
        self.error = None
        self.retry_at = None
        self.updated_at = now

    def chunked(self, *, chunk_count: int, token_count: int, now: datetime) -> None:
        self.chunk_count = chunk_count
        self.token_count = token_count
        self.updated_at = now

    def ready(self, *, embedding_model: str, now: datetime) -> None:
        self.status = EntryStatus.READY
        self.embedding_model = embedding_model
        self.error = None
        self.retry_at = None
        self.updated_at = now

    def fail(self, reason: str, now: datetime, *, retry_at: datetime | None = None) -> None:
        """``retry_at``: a transient failure the reconciler retries then; None: final."""
        self.status = EntryStatus.FAILED
        self.error = reason[:500]
        self.retry_at = retry_at
        self.updated_at = now

    def requeued(self, now: datetime) -> None:
        """The reconciler queued this version again (its job was lost, timed out, or failed)."""
        self.ingest_attempts += 1
        self.status = EntryStatus.PENDING
        self.error = None
        self.retry_at = None
        self.updated_at = now


def clean_title(title: str) -> str:
    value = " ".join(title.split())
    if not value:
        raise InvalidInput(
            "A title is required.", extra={"fields": [{"key": "title", "message": "must not be empty"}]}
        )
    if len(value) > MAX_TITLE_LENGTH:
        raise InvalidInput(
            "The title is too long.", extra={"fields": [{"key": "title", "message": "too long"}]}
        )
    return value


def check_text(content: str) -> None:
    if not content.strip():
        raise InvalidInput(
            "The content is empty.", extra={"fields": [{"key": "content", "message": "must not be empty"}]}
        )
    if len(content) > MAX_TEXT_LENGTH:
        raise InvalidInput(
            "The content is too long.", extra={"fields": [{"key": "content", "message": "too long"}]}
        )


@dataclass(frozen=True, slots=True)
class IndexedChunk:
    """A chunk ready for the index: its text, the normalised text for full-text search, and its vector."""

    position: int
    content: str
    token_count: int
    search_text: str


@dataclass(frozen=True, slots=True)
class SearchHit:
    chunk_id: UUID
    entry_id: UUID
    title: str
    content: str
    position: int
    token_count: int
    score: float
    similarity: float
    keyword: float
