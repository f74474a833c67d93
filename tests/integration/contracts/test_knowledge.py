"""Knowledge entries, the chunk index and the blob store."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from dishka import AsyncContainer

from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import EntryStatus, IndexedChunk, KnowledgeEntry, SourceType
from kalamna.domain.pages import PageRequest
from kalamna.domain.text import normalize_for_search
from kalamna.ports.ai import Embedder
from kalamna.ports.knowledge import BlobStore, ChunkIndex, KnowledgeRepository
from kalamna.ports.repositories import UnitOfWork
from tests.integration.contracts.conftest import NOW, in_scope, organization, read, seed

MODEL = "contract-model"


def entry(organization_id: UUID, title: str, *, at: int = 0) -> KnowledgeEntry:
    moment = NOW + timedelta(seconds=at)
    return KnowledgeEntry(
        new_id(),
        organization_id,
        title,
        SourceType.TEXT,
        EntryStatus.PENDING,
        1,
        moment,
        moment,
        content="text",
    )


async def organizations(container: AsyncContainer, count: int = 2) -> list[UUID]:
    orgs = [organization(f"Org {n}") for n in range(count)]
    await seed(container, *((o, []) for o in orgs))
    return [o.id for o in orgs]


def chunk(position: int, content: str) -> IndexedChunk:
    return IndexedChunk(position, content, len(content.split()), normalize_for_search(content))


def axis(dimensions: int, index: int, tilt: float = 0.0) -> list[float]:
    vector = [0.0] * dimensions
    vector[index] = 1.0
    vector[(index + 1) % dimensions] = tilt
    return vector


async def test_entries_round_trip_scoped_and_save_only_updates(container: AsyncContainer) -> None:
    mine, theirs = await organizations(container)
    item = entry(mine, "Hours")
    await in_scope(container, KnowledgeRepository, lambda r: r.add(item))
    assert await read(container, KnowledgeRepository, lambda r: r.get(mine, item.id)) == item
    assert await read(container, KnowledgeRepository, lambda r: r.get(theirs, item.id)) is None
    assert await read(container, KnowledgeRepository, lambda r: r.get_for_update(item.id)) == item
    item.revise(title="Opening hours", content="Open at nine.", now=NOW + timedelta(minutes=1))
    item.chunk_count, item.embedding_model = 2, MODEL
    await in_scope(container, KnowledgeRepository, lambda r: r.save(item))
    assert await read(container, KnowledgeRepository, lambda r: r.get(mine, item.id)) == item
    with pytest.raises(LookupError):
        await in_scope(container, KnowledgeRepository, lambda r: r.save(entry(mine, "Never added")))
    await in_scope(container, KnowledgeRepository, lambda r: r.delete(theirs, item.id))  # wrong tenant
    assert await read(container, KnowledgeRepository, lambda r: r.get(mine, item.id)) == item


async def test_entry_search_and_rebuild_lists(container: AsyncContainer) -> None:
    mine, theirs = await organizations(container)
    items = [
        entry(mine, title, at=n) for n, title in enumerate(["Refunds", "50% off", "refund_rules", "Hours"])
    ]
    items[3].status = EntryStatus.READY
    other = entry(theirs, "Refunds")
    for item in (*items, other):
        await in_scope(container, KnowledgeRepository, lambda r, e=item: r.add(e))

    async def titles(
        status: EntryStatus | None, query: str | None, page: PageRequest = PageRequest(20, 0)
    ) -> tuple[list[str], int]:
        found = await read(
            container,
            KnowledgeRepository,
            lambda r: r.search(mine, status=status, title_query=query, page=page),
        )
        return [e.title for e in found.items], found.total

    assert await titles(None, None) == (["Hours", "refund_rules", "50% off", "Refunds"], 4)
    assert await titles(None, "REFUND") == (["refund_rules", "Refunds"], 2)
    assert await titles(None, "%") == (["50% off"], 1)
    assert await titles(None, "_") == (["refund_rules"], 1)
    assert await titles(EntryStatus.READY, None) == (["Hours"], 1)
    assert await titles(None, None, PageRequest(2, 1)) == (["refund_rules", "50% off"], 4)
    assert await read(container, KnowledgeRepository, lambda r: r.ids_for_rebuild(mine)) == sorted(
        (e.id, 1) for e in items
    )
    everything = await read(container, KnowledgeRepository, lambda r: r.ids_for_rebuild(None))
    assert everything == sorted((e.id, 1) for e in (*items, other))


async def test_the_chunk_index_replaces_embeds_and_searches_within_a_tenant(
    container: AsyncContainer,
) -> None:
    mine, theirs = await organizations(container)
    dimensions = (await container.get(Embedder)).dimensions
    parking, hours, rival = entry(mine, "Parking"), entry(mine, "Hours"), entry(theirs, "Parking")
    async with container() as scope:
        entries, index = await scope.get(KnowledgeRepository), await scope.get(ChunkIndex)
        for item in (parking, hours, rival):
            await entries.add(item)
        await index.replace(parking, [chunk(0, "Stale text about parking")])
        await index.replace(
            parking, [chunk(0, "Parking is free after six"), chunk(1, "The garage is under the mall")]
        )
        await index.replace(hours, [chunk(0, "We open at nine every morning")])
        await index.replace(rival, [chunk(0, "Parking is free after six")])
        await (await scope.get(UnitOfWork)).commit()

    pending = await read(container, ChunkIndex, lambda i: i.pending_embeddings(parking.id, MODEL))
    assert [content for _, content in pending] == [
        "Parking is free after six",
        "The garage is under the mall",
    ]
    vectors = {
        pending[0][0]: axis(dimensions, 0),
        pending[1][0]: axis(dimensions, 1),
    }
    [(hours_chunk, _)] = await read(container, ChunkIndex, lambda i: i.pending_embeddings(hours.id, MODEL))
    [(rival_chunk, _)] = await read(container, ChunkIndex, lambda i: i.pending_embeddings(rival.id, MODEL))
    vectors[hours_chunk] = axis(dimensions, 2)
    vectors[rival_chunk] = axis(dimensions, 0)
    await in_scope(container, ChunkIndex, lambda i: i.store_embeddings(MODEL, vectors))
    assert await read(container, ChunkIndex, lambda i: i.pending_embeddings(parking.id, MODEL)) == []
    assert (
        len(await read(container, ChunkIndex, lambda i: i.pending_embeddings(parking.id, "another-model")))
        == 2
    )

    async def search(query: str, vector: list[float], model: str = MODEL) -> list[tuple[UUID, str]]:
        hits = await read(
            container,
            ChunkIndex,
            lambda i: i.search(
                mine, query_vector=vector, query_text=query, model=model, top_k=5, similarity_floor=0.0
            ),
        )
        assert all(0.0 <= h.score <= 1.0 for h in hits)
        return [(h.entry_id, h.content) for h in hits]

    found = await search("Is parking free?", axis(dimensions, 0, 0.1))
    assert found[0] == (parking.id, "Parking is free after six")
    assert {entry_id for entry_id, _ in found} <= {parking.id, hours.id}, "never another tenant's chunk"
    by_vector_only = await search("zzz", axis(dimensions, 2))
    assert by_vector_only[0] == (hours.id, "We open at nine every morning")
    assert await search("qqq", axis(dimensions, 2), model="another-model") == [], "vectors of one model only"
    by_words_only = await search("garage mall", axis(dimensions, 5), model="another-model")
    assert by_words_only == [(parking.id, "The garage is under the mall")]

    neighbours = await read(container, ChunkIndex, lambda i: i.neighbours(mine, parking.id, [1]))
    assert [(h.position, h.content, h.title, h.score) for h in neighbours] == [
        (1, "The garage is under the mall", "Parking", 0.0)
    ]
    assert await read(container, ChunkIndex, lambda i: i.neighbours(theirs, parking.id, [0, 1])) == []


async def test_deleting_an_entry_deletes_its_chunks(container: AsyncContainer) -> None:
    [mine] = await organizations(container, 1)
    item = entry(mine, "Parking")
    async with container() as scope:
        await (await scope.get(KnowledgeRepository)).add(item)
        await (await scope.get(ChunkIndex)).replace(item, [chunk(0, "Parking is free")])
        await (await scope.get(UnitOfWork)).commit()
    await in_scope(container, KnowledgeRepository, lambda r: r.delete(mine, item.id))
    assert await read(container, ChunkIndex, lambda i: i.pending_embeddings(item.id, MODEL)) == []
    assert await read(container, ChunkIndex, lambda i: i.neighbours(mine, item.id, [0])) == []


async def test_blobs_are_stored_read_and_deleted_outside_transactions(container: AsyncContainer) -> None:
    async with container() as scope:  # never committed: files are not part of the transaction
        await (await scope.get(BlobStore)).put("org/entry-1", b"original bytes")
    blobs = await container.get(BlobStore)
    assert await blobs.get("org/entry-1") == b"original bytes"
    await blobs.put("org/entry-1", b"replaced")
    assert await blobs.get("org/entry-1") == b"replaced"
    await blobs.delete("org/entry-1")
    await blobs.delete("org/entry-1")  # deleting twice is fine
    with pytest.raises(FileNotFoundError):
        await blobs.get("org/entry-1")
