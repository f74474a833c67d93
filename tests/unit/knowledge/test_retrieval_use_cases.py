"""Search and the retrieval context builder (``application/knowledge/retrieval.py``), resolved from
the container with in-memory adapters."""

from __future__ import annotations

import pytest
from dishka import AsyncContainer

from kalamna.adapters.memory.security import FixedClock
from kalamna.application.knowledge.retrieval import BuildContext, SearchKnowledge
from kalamna.domain.errors import InvalidInput
from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import EntryStatus, IndexedChunk, KnowledgeEntry, SearchHit, SourceType
from kalamna.ports.ai import TokenCounter
from kalamna.ports.knowledge import ChunkIndex, KnowledgeRepository
from kalamna.ports.repositories import UnitOfWork

ORG = new_id()


async def add_entry(container: AsyncContainer, title: str, chunks: list[str]) -> KnowledgeEntry:
    now = (await container.get(FixedClock)).now()
    entry = KnowledgeEntry(new_id(), ORG, title, SourceType.TEXT, EntryStatus.READY, 1, now, now)
    async with container() as scope:
        await (await scope.get(KnowledgeRepository)).add(entry)
        await (await scope.get(ChunkIndex)).replace(
            entry, [IndexedChunk(n, text, len(text.split()), text.lower()) for n, text in enumerate(chunks)]
        )
        await (await scope.get(UnitOfWork)).commit()
    return entry


def hit(entry: KnowledgeEntry, position: int, content: str, score: float) -> SearchHit:
    return SearchHit(new_id(), entry.id, entry.title, content, position, 10, score, score, 0.0)


async def build(container: AsyncContainer, hits: list[SearchHit], max_tokens: int = 1500):  # type: ignore[no-untyped-def]
    async with container() as scope:
        return await (await scope.get(BuildContext)).from_hits(ORG, hits, max_tokens)


async def test_an_empty_query_is_refused(container: AsyncContainer) -> None:
    async with container() as scope:
        search = await scope.get(SearchKnowledge)
        with pytest.raises(InvalidInput):
            await search(ORG, "   ")


async def test_hits_of_one_entry_merge_with_the_chunk_between_them(container: AsyncContainer) -> None:
    chunks = [
        "Parking\nCars park free after six.",  # chunks start with their entry's title
        "The garage is under the mall. Bikes park by the door.",  # the overlap the chunker repeats ...
        "Bikes park by the door. Vans use the back lot.",  # ... is dropped when merging
    ]
    parking = await add_entry(container, "Parking", chunks)
    hours = await add_entry(container, "Hours", ["We open at nine."])
    built = await build(
        container,
        [
            hit(parking, 0, chunks[0], 0.9),
            hit(hours, 0, "We open at nine.", 0.5),
            hit(parking, 2, chunks[2], 0.4),
        ],
    )
    [(first_source, first), (second_source, second)] = built.passages
    assert first_source.entry_id == parking.id and first_source.score == 0.9
    assert first == (
        "Cars park free after six.\nThe garage is under the mall. Bikes park by the door. Vans use the back lot."
    ), "the title once, the chunk between the two hits pulled in, the repeated overlap dropped"
    assert (second_source.entry_id, second) == (hours.id, "We open at nine.")
    assert [s.entry_id for s in built.sources] == [parking.id, hours.id]
    assert built.context.startswith("[S1] Parking\n") and "\n\n[S2] Hours\n" in built.context
    assert built.token_count == (await container.get(TokenCounter)).count(built.context)


async def test_the_context_is_cut_to_its_budget_best_first(container: AsyncContainer) -> None:
    long_text = "Our warranty covers manufacturing defects for two years from delivery. " * 40
    entries = [await add_entry(container, f"Warranty {n}", [long_text]) for n in range(3)]
    built = await build(
        container, [hit(e, 0, long_text, 0.9 - n / 10) for n, e in enumerate(entries)], max_tokens=700
    )
    assert built.token_count <= 700
    assert [s.entry_id for s in built.sources] == [e.id for e in entries[: len(built.sources)]]
    assert 1 <= len(built.sources) < 3


async def test_no_hits_give_an_empty_context(container: AsyncContainer) -> None:
    built = await build(container, [])
    assert (built.context, built.sources, built.token_count, built.passages) == ("", [], 0, [])


async def test_search_returns_the_tenants_best_chunk_first(container: AsyncContainer) -> None:
    from tests.unit.knowledge.test_ingestion_use_cases import OWNER, create, ingest

    entry = await create(container)
    assert OWNER.organization_id is not None
    await ingest(container, entry.id, 1)
    async with container() as scope:
        search = await scope.get(SearchKnowledge)
        hits = await search(OWNER.organization_id, "gluten-free cakes ordered", top_k=1)
        elsewhere = await search(new_id(), "gluten-free cakes ordered")
    assert [h.entry_id for h in hits] == [entry.id] and "Gluten-free" in hits[0].content
    assert elsewhere == []
