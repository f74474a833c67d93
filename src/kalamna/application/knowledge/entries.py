"""Create, read, update and delete knowledge entries. Ingestion itself runs as a job."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from uuid import UUID

from kalamna.application.access import require
from kalamna.application.auth.principal import Principal
from kalamna.domain.errors import InvalidInput, NotFound, PayloadTooLarge
from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import EntryStatus, KnowledgeEntry, SourceType, check_text, clean_title
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.policy import Action
from kalamna.ports.jobs import INGEST_ENTRY, JobQueue
from kalamna.ports.knowledge import BlobStore, DocumentSniffer, KnowledgeRepository
from kalamna.ports.repositories import UnitOfWork
from kalamna.ports.security import Clock

log = logging.getLogger("kalamna.knowledge")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def ingest_job_key(entry: KnowledgeEntry) -> str:
    """One queued job per entry version: queuing the same version twice is a no-op."""
    return f"ingest:{entry.id}:{entry.version}"


async def queue_ingestion(jobs: JobQueue, entry: KnowledgeEntry) -> bool:
    """False when this version's job is still queued, running or waiting for a retry."""
    return await jobs.enqueue(
        INGEST_ENTRY, key=ingest_job_key(entry), entry_id=str(entry.id), version=entry.version
    )


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes
    title: str | None = None


class CreateEntry:
    def __init__(
        self,
        entries: KnowledgeRepository,
        blobs: BlobStore,
        sniffer: DocumentSniffer,
        jobs: JobQueue,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._entries = entries
        self._blobs = blobs
        self._sniffer = sniffer
        self._jobs = jobs
        self._uow = uow
        self._clock = clock

    async def from_text(
        self, principal: Principal, organization_id: UUID, title: str, content: str
    ) -> KnowledgeEntry:
        require(principal, organization_id, Action.WRITE_KNOWLEDGE)
        check_text(content)
        entry = self._new(principal, organization_id, clean_title(title), SourceType.TEXT)
        entry.content = content
        entry.size_bytes = len(content.encode("utf-8"))
        entry.content_type = "text/plain"
        return await self._store(entry)

    async def from_file(self, principal: Principal, organization_id: UUID, upload: Upload) -> KnowledgeEntry:
        require(principal, organization_id, Action.WRITE_KNOWLEDGE)
        if len(upload.data) > MAX_UPLOAD_BYTES:
            raise PayloadTooLarge("Files may be at most 10 MiB.")
        if not upload.data.strip():
            raise InvalidInput("The file is empty.", extra={"fields": [{"key": "file", "message": "empty"}]})
        filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
        content_type = self._sniffer.content_type(upload.data, filename)
        title = clean_title(upload.title or filename.rsplit(".", 1)[0] or filename)
        entry = self._new(principal, organization_id, title, SourceType.FILE)
        entry.filename = filename
        entry.content_type = content_type
        entry.size_bytes = len(upload.data)
        entry.blob_key = f"{organization_id}/{entry.id}"
        await self._blobs.put(entry.blob_key, upload.data)
        try:
            await self._entries.add(entry)
            await self._uow.commit()
        except BaseException:
            # Nothing refers to the file: do not leave it behind (the database may be down).
            with contextlib.suppress(Exception):
                await self._uow.rollback()
            await self._blobs.delete(entry.blob_key)
            raise
        return await self._queued(entry)

    def _new(
        self, principal: Principal, organization_id: UUID, title: str, source: SourceType
    ) -> KnowledgeEntry:
        now = self._clock.now()
        return KnowledgeEntry(
            id=new_id(),
            organization_id=organization_id,
            title=title,
            source_type=source,
            status=EntryStatus.PENDING,
            version=1,
            created_at=now,
            updated_at=now,
            created_by=principal.employee_id,
        )

    async def _store(self, entry: KnowledgeEntry) -> KnowledgeEntry:
        await self._entries.add(entry)
        await self._uow.commit()
        return await self._queued(entry)

    async def _queued(self, entry: KnowledgeEntry) -> KnowledgeEntry:
        # If queueing fails (Redis down) the entry is saved and stays pending: the reconciler
        # (worker/maintenance.py) queues it later, so the caller's 503 loses nothing.
        await queue_ingestion(self._jobs, entry)
        log.info(
            "knowledge entry created",
            extra={"entry_id": str(entry.id), "organization_id": str(entry.organization_id)},
        )
        return entry


class ListEntries:
    def __init__(self, entries: KnowledgeRepository) -> None:
        self._entries = entries

    async def __call__(
        self,
        principal: Principal,
        organization_id: UUID,
        *,
        status: EntryStatus | None,
        title_query: str | None,
        page: PageRequest,
    ) -> Page[KnowledgeEntry]:
        require(principal, organization_id, Action.READ_KNOWLEDGE)
        return await self._entries.search(
            organization_id, status=status, title_query=(title_query or "").strip() or None, page=page
        )


class GetEntry:
    def __init__(self, entries: KnowledgeRepository) -> None:
        self._entries = entries

    async def __call__(self, principal: Principal, organization_id: UUID, entry_id: UUID) -> KnowledgeEntry:
        require(principal, organization_id, Action.READ_KNOWLEDGE)
        entry = await self._entries.get(organization_id, entry_id)
        if entry is None:
            raise NotFound()
        return entry


class UpdateEntry:
    def __init__(
        self, entries: KnowledgeRepository, blobs: BlobStore, jobs: JobQueue, uow: UnitOfWork, clock: Clock
    ) -> None:
        self._entries = entries
        self._blobs = blobs
        self._jobs = jobs
        self._uow = uow
        self._clock = clock

    async def __call__(
        self,
        principal: Principal,
        organization_id: UUID,
        entry_id: UUID,
        *,
        title: str | None,
        content: str | None,
    ) -> KnowledgeEntry:
        require(principal, organization_id, Action.WRITE_KNOWLEDGE)
        entry = await self._entries.get(organization_id, entry_id)
        if entry is None:
            raise NotFound()
        dropped_blob = None
        if content is not None and entry.blob_key is not None:
            # Typed content replaces the uploaded file's text from now on.
            dropped_blob, entry.blob_key = entry.blob_key, None
            entry.source_type = SourceType.TEXT
            entry.content_type = "text/plain"
            entry.size_bytes = len(content.encode("utf-8"))
        changed = entry.revise(title=title, content=content, now=self._clock.now())
        await self._entries.save(entry)
        await self._uow.commit()
        if dropped_blob:
            await self._blobs.delete(dropped_blob)
        if changed:
            await queue_ingestion(self._jobs, entry)
        return entry


class DeleteEntry:
    """The entry and its chunks go in one transaction: search stops finding it at commit."""

    def __init__(self, entries: KnowledgeRepository, blobs: BlobStore, uow: UnitOfWork) -> None:
        self._entries = entries
        self._blobs = blobs
        self._uow = uow

    async def __call__(self, principal: Principal, organization_id: UUID, entry_id: UUID) -> None:
        require(principal, organization_id, Action.DELETE_KNOWLEDGE)
        entry = await self._entries.get(organization_id, entry_id)
        if entry is None:
            raise NotFound()
        await self._entries.delete(organization_id, entry_id)
        await self._uow.commit()
        if entry.blob_key:
            await self._blobs.delete(entry.blob_key)
