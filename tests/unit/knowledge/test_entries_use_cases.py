"""Create, list, read, update and delete knowledge entries: the use cases of
``application/knowledge/entries.py`` resolved from the container with in-memory adapters."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from dishka import AsyncContainer

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.memory.knowledge import KnowledgeStore
from kalamna.adapters.memory.security import FixedClock
from kalamna.application.auth.principal import Principal
from kalamna.application.knowledge.entries import (
    MAX_UPLOAD_BYTES,
    CreateEntry,
    DeleteEntry,
    GetEntry,
    ListEntries,
    UpdateEntry,
    Upload,
)
from kalamna.domain.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from kalamna.domain.identity import Role
from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import MAX_TEXT_LENGTH, MAX_TITLE_LENGTH, EntryStatus, SourceType
from kalamna.domain.pages import PageRequest
from kalamna.ports.jobs import INGEST_ENTRY

ORG = new_id()
OWNER = Principal(new_id(), ORG, Role.OWNER, "jti-owner", 0.0)
STAFF = Principal(new_id(), ORG, Role.STAFF, "jti-staff", 0.0)
STRANGER = Principal(new_id(), new_id(), Role.OWNER, "jti-stranger", 0.0)
SUPERUSER = Principal(new_id(), None, Role.SUPERUSER, "jti-root", 0.0)


async def create_text(
    container: AsyncContainer, title: str = "Hours", content: str = "Open at nine.", *, by: Principal = OWNER
):  # type: ignore[no-untyped-def]
    async with container() as scope:
        return await (await scope.get(CreateEntry)).from_text(by, ORG, title, content)


async def get(container: AsyncContainer, entry_id: UUID, by: Principal = OWNER):  # type: ignore[no-untyped-def]
    async with container() as scope:
        return await (await scope.get(GetEntry))(by, ORG, entry_id)


async def queued(container: AsyncContainer) -> list[tuple[str, str | None, dict[str, object]]]:
    jobs = await container.get(MemoryJobQueue)
    return [(job.task, job.key, job.kwargs) for job in jobs.jobs]


async def test_a_text_entry_is_stored_pending_and_queued_once_per_version(container: AsyncContainer) -> None:
    entry = await create_text(container, "  Opening   hours ", "We open at nine.", by=STAFF)
    assert (entry.title, entry.status, entry.version, entry.source_type) == (
        "Opening hours",
        EntryStatus.PENDING,
        1,
        SourceType.TEXT,
    )
    assert (entry.content_type, entry.size_bytes, entry.created_by) == ("text/plain", 16, STAFF.employee_id)
    assert await queued(container) == [
        (INGEST_ENTRY, f"ingest:{entry.id}:1", {"entry_id": str(entry.id), "version": 1})
    ]
    stored = await get(container, entry.id)
    assert stored == entry


async def test_an_upload_keeps_its_file_and_a_safe_name(container: AsyncContainer) -> None:
    data = b"Parking is free after six."
    async with container() as scope:
        entry = await (await scope.get(CreateEntry)).from_file(
            OWNER, ORG, Upload(filename="C:\\Users\\me\\parking.txt", data=data)
        )
    assert (entry.filename, entry.title, entry.content_type, entry.size_bytes) == (
        "parking.txt",
        "parking",
        "text/plain",
        len(data),
    )
    assert entry.source_type is SourceType.FILE
    assert entry.blob_key == f"{ORG}/{entry.id}"
    assert (await container.get(KnowledgeStore)).blobs[entry.blob_key] == data
    assert [key for _, key, _ in await queued(container)] == [f"ingest:{entry.id}:1"]


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (Upload("big.txt", b"x" * (MAX_UPLOAD_BYTES + 1)), PayloadTooLarge),
        (Upload("empty.txt", b" \n\t "), InvalidInput),
        (Upload("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00binary"), UnsupportedMediaType),
    ],
)
async def test_refused_uploads_store_and_queue_nothing(
    container: AsyncContainer, upload: Upload, error: type[Exception]
) -> None:
    async with container() as scope:
        with pytest.raises(error):
            await (await scope.get(CreateEntry)).from_file(OWNER, ORG, upload)
    store = await container.get(KnowledgeStore)
    assert (store.entries, store.blobs, await queued(container)) == ({}, {}, [])


@pytest.mark.parametrize(
    ("title", "content"),
    [
        ("", "text"),
        ("Title", "   "),
        ("x" * (MAX_TITLE_LENGTH + 1), "text"),
        ("T", "x" * (MAX_TEXT_LENGTH + 1)),
    ],
)
async def test_invalid_text_entries_are_refused(container: AsyncContainer, title: str, content: str) -> None:
    with pytest.raises(InvalidInput):
        await create_text(container, title, content)
    assert (await container.get(KnowledgeStore)).entries == {}


async def test_other_organizations_cannot_create_read_update_or_delete(container: AsyncContainer) -> None:
    entry = await create_text(container)
    async with container() as scope:
        with pytest.raises(NotFound):  # another tenant's organization id: as if it did not exist
            await (await scope.get(CreateEntry)).from_text(STRANGER, ORG, "Mine now", "text")
        with pytest.raises(NotFound):
            await (await scope.get(GetEntry))(STRANGER, ORG, entry.id)
        with pytest.raises(NotFound):
            await (await scope.get(UpdateEntry))(STRANGER, ORG, entry.id, title="X", content=None)
        with pytest.raises(NotFound):
            await (await scope.get(DeleteEntry))(STRANGER, ORG, entry.id)
        with pytest.raises(NotFound):  # one's own organization id with another tenant's entry
            await (await scope.get(GetEntry))(STRANGER, STRANGER.organization_id, entry.id)
    assert (await get(container, entry.id)).title == "Hours"


async def test_staff_may_write_but_not_delete_and_the_superuser_may_do_both(
    container: AsyncContainer,
) -> None:
    entry = await create_text(container)
    async with container() as scope:
        with pytest.raises(Forbidden):
            await (await scope.get(DeleteEntry))(STAFF, ORG, entry.id)
    async with container() as scope:
        await (await scope.get(DeleteEntry))(SUPERUSER, ORG, entry.id)
    with pytest.raises(NotFound):
        await get(container, entry.id)


async def test_list_filters_by_status_and_title_newest_first(container: AsyncContainer) -> None:
    titles = ["Refund policy", "Shipping", "Refunds for gifts", "100% cotton"]
    clock = await container.get(FixedClock)
    entries = []
    for title in titles:
        entries.append(await create_text(container, title, "text"))
        clock.advance(timedelta(seconds=1))
    async with container() as scope:
        listing = await scope.get(ListEntries)
        everything = await listing(OWNER, ORG, status=None, title_query=None, page=PageRequest(10, 0))
        refunds = await listing(OWNER, ORG, status=None, title_query=" REFUND ", page=PageRequest(10, 0))
        literal = await listing(OWNER, ORG, status=None, title_query="%", page=PageRequest(10, 0))
        ready = await listing(OWNER, ORG, status=EntryStatus.READY, title_query=None, page=PageRequest(10, 0))
        second = await listing(STAFF, ORG, status=None, title_query="", page=PageRequest(1, 1))
    assert [e.title for e in everything.items] == list(reversed(titles))
    assert [e.title for e in refunds.items] == ["Refunds for gifts", "Refund policy"]
    assert [e.title for e in literal.items] == ["100% cotton"]
    assert (ready.items, ready.total) == ([], 0)
    assert ([e.id for e in second.items], second.total) == ([entries[2].id], 4)


async def test_an_edit_that_changes_the_text_bumps_the_version_and_requeues(
    container: AsyncContainer,
) -> None:
    entry = await create_text(container)
    async with container() as scope:
        update = await scope.get(UpdateEntry)
        same = await update(STAFF, ORG, entry.id, title="Hours", content="Open at nine.")
        assert same.version == 1  # nothing changed: no new version, no job
        changed = await update(STAFF, ORG, entry.id, title=None, content="Open at ten.")
    assert (changed.version, changed.status, changed.content) == (2, EntryStatus.PENDING, "Open at ten.")
    assert [key for _, key, _ in await queued(container)] == [f"ingest:{entry.id}:1", f"ingest:{entry.id}:2"]
    assert (await get(container, entry.id)).version == 2


async def test_typed_content_replaces_an_uploaded_file(container: AsyncContainer) -> None:
    async with container() as scope:
        entry = await (await scope.get(CreateEntry)).from_file(OWNER, ORG, Upload("a.txt", b"Old text."))
    async with container() as scope:
        updated = await (await scope.get(UpdateEntry))(OWNER, ORG, entry.id, title=None, content="New text.")
    assert (updated.blob_key, updated.source_type, updated.content_type, updated.size_bytes) == (
        None,
        SourceType.TEXT,
        "text/plain",
        9,
    )
    assert (await container.get(KnowledgeStore)).blobs == {}


async def test_deleting_removes_the_entry_its_chunks_and_its_file(container: AsyncContainer) -> None:
    async with container() as scope:
        entry = await (await scope.get(CreateEntry)).from_file(OWNER, ORG, Upload("a.txt", b"Some text."))
    store = await container.get(KnowledgeStore)
    async with container() as scope:
        await (await scope.get(DeleteEntry))(OWNER, ORG, entry.id)
    assert (store.entries, store.chunks, store.blobs) == ({}, {}, {})
    async with container() as scope:
        with pytest.raises(NotFound):
            await (await scope.get(DeleteEntry))(OWNER, ORG, entry.id)
