from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kalamna.adapters.postgres.models import KnowledgeEntryRow
from kalamna.domain.knowledge import EntryStatus, KnowledgeEntry, SourceType
from kalamna.domain.pages import Page, PageRequest

_FIELDS = (
    "title",
    "version",
    "content",
    "created_by",
    "filename",
    "content_type",
    "size_bytes",
    "blob_key",
    "error",
    "chunk_count",
    "token_count",
    "embedding_model",
    "ingest_attempts",
    "retry_at",
)


def entry_from_row(row: KnowledgeEntryRow) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=row.id,
        organization_id=row.organization_id,
        source_type=SourceType(row.source_type),
        status=EntryStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        **{name: getattr(row, name) for name in _FIELDS},
    )


class SqlaKnowledgeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: KnowledgeEntry) -> None:
        row = KnowledgeEntryRow(
            id=entry.id, organization_id=entry.organization_id, created_at=entry.created_at
        )
        self._copy(entry, row)
        self._session.add(row)
        await self._session.flush()

    async def get(self, organization_id: UUID, entry_id: UUID) -> KnowledgeEntry | None:
        row = await self._session.scalar(
            select(KnowledgeEntryRow)
            .where(KnowledgeEntryRow.organization_id == organization_id, KnowledgeEntryRow.id == entry_id)
            .execution_options(populate_existing=True)
        )
        return entry_from_row(row) if row else None

    async def get_for_update(self, entry_id: UUID) -> KnowledgeEntry | None:
        row = await self._session.scalar(
            select(KnowledgeEntryRow)
            .where(KnowledgeEntryRow.id == entry_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return entry_from_row(row) if row else None

    async def save(self, entry: KnowledgeEntry) -> None:
        row = await self._session.get(KnowledgeEntryRow, entry.id)
        if row is None:
            raise LookupError(entry.id)
        self._copy(entry, row)
        await self._session.flush()

    async def delete(self, organization_id: UUID, entry_id: UUID) -> None:
        # knowledge_chunks.entry_id cascades: the chunks go in the same statement's transaction.
        await self._session.execute(
            delete(KnowledgeEntryRow).where(
                KnowledgeEntryRow.organization_id == organization_id, KnowledgeEntryRow.id == entry_id
            )
        )

    async def search(
        self, organization_id: UUID, *, status: EntryStatus | None, title_query: str | None, page: PageRequest
    ) -> Page[KnowledgeEntry]:
        where = [KnowledgeEntryRow.organization_id == organization_id]
        if status is not None:
            where.append(KnowledgeEntryRow.status == status.value)
        if title_query:
            escaped = title_query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(KnowledgeEntryRow.title.ilike(f"%{escaped}%", escape="\\"))
        total = await self._session.scalar(select(func.count()).select_from(KnowledgeEntryRow).where(*where))
        rows = await self._session.scalars(
            select(KnowledgeEntryRow)
            .where(*where)
            .order_by(KnowledgeEntryRow.created_at.desc(), KnowledgeEntryRow.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        return Page([entry_from_row(r) for r in rows], int(total or 0), page.limit, page.offset)

    async def ids_for_rebuild(self, organization_id: UUID | None) -> list[tuple[UUID, int]]:
        query = select(KnowledgeEntryRow.id, KnowledgeEntryRow.version)
        if organization_id is not None:
            query = query.where(KnowledgeEntryRow.organization_id == organization_id)
        return [
            (row.id, row.version) for row in await self._session.execute(query.order_by(KnowledgeEntryRow.id))
        ]

    async def needing_reconciliation(
        self, *, pending_before: datetime, processing_before: datetime, retry_due: datetime, limit: int
    ) -> list[UUID]:
        row = KnowledgeEntryRow
        query = (
            select(row.id)
            .where(
                or_(
                    and_(row.status == EntryStatus.PENDING.value, row.updated_at < pending_before),
                    and_(row.status == EntryStatus.PROCESSING.value, row.updated_at < processing_before),
                    and_(
                        row.status == EntryStatus.FAILED.value,
                        row.retry_at.is_not(None),
                        row.retry_at <= retry_due,
                    ),
                )
            )
            .order_by(row.updated_at)
            .limit(limit)
        )
        return list(await self._session.scalars(query))

    @staticmethod
    def _copy(entry: KnowledgeEntry, row: KnowledgeEntryRow) -> None:
        for name in _FIELDS:
            setattr(row, name, getattr(entry, name))
        row.source_type = entry.source_type.value
        row.status = entry.status.value
        row.updated_at = entry.updated_at
