"""Hybrid retrieval (vector + full text, fused) and the context builder for answer generation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from uuid import UUID

from kalamna.domain.errors import InvalidInput
from kalamna.domain.knowledge import SearchHit
from kalamna.domain.text import normalize_for_search
from kalamna.ports.ai import Embedder, TokenCounter
from kalamna.ports.knowledge import ChunkIndex

MAX_QUERY_CHARS = 2000


@dataclass(frozen=True, slots=True)
class RetrievalSettings:
    """``similarity_floor``: the cosine similarity the embedding model gives unrelated text; scores
    are rescaled so that it maps to 0 (e5 models crowd everything into 0.7–0.9)."""

    similarity_floor: float = 0.0


class SearchKnowledge:
    def __init__(self, index: ChunkIndex, embedder: Embedder, settings: RetrievalSettings) -> None:
        self._index = index
        self._embedder = embedder
        self._settings = settings

    async def __call__(self, organization_id: UUID, query: str, top_k: int = 5) -> list[SearchHit]:
        query = query.strip()
        if not query:
            raise InvalidInput("The query is empty.", extra={"fields": [{"key": "query"}]})
        query = query[:MAX_QUERY_CHARS]
        vector = await self._embedder.embed_query(query)
        return await self._index.search(
            organization_id,
            query_vector=vector,
            query_text=normalize_for_search(query),
            model=self._embedder.model,
            top_k=max(1, min(top_k, 50)),
            similarity_floor=self._settings.similarity_floor,
        )


@dataclass(frozen=True, slots=True)
class ContextSource:
    entry_id: UUID
    title: str
    score: float


@dataclass(frozen=True, slots=True)
class BuiltContext:
    context: str
    sources: list[ContextSource]
    token_count: int
    passages: list[tuple[ContextSource, str]]


def _merge(first: str, second: str) -> str:
    """Join two neighbouring chunks, dropping the overlap the chunker repeated at the seam."""
    for size in range(min(len(first), len(second), 2000), 20, -1):
        if first.endswith(second[:size]):
            return first + second[size:]
    return first + "\n" + second


def _body(content: str, title: str) -> str:
    """Chunks start with their entry title for retrieval; the context shows the title once."""
    return content[len(title) :].lstrip("\n ") if content.startswith(title) else content


class BuildContext:
    """Best passages first, neighbouring chunks of one entry merged, cut to a token budget."""

    def __init__(self, search: SearchKnowledge, index: ChunkIndex, tokens: TokenCounter) -> None:
        self._search = search
        self._index = index
        self._tokens = tokens

    async def __call__(
        self,
        organization_id: UUID,
        query: str,
        max_tokens: int = 1500,
        top_k: int = 6,
        min_score: float = 0.0,
    ) -> BuiltContext:
        hits = [h for h in await self._search(organization_id, query, top_k) if h.score >= min_score]
        return await self.from_hits(organization_id, hits, max_tokens)

    async def from_hits(
        self, organization_id: UUID, hits: list[SearchHit], max_tokens: int, *, exact: bool = True
    ) -> BuiltContext:
        """``exact=False`` (the chat path, whose prompt builder budgets the passages again): blocks
        are costed as label + text, each counted once per process (memoised by the counter), and
        ``token_count`` is the sum of those costs rather than a count of the joined context."""
        by_entry: dict[UUID, list[SearchHit]] = defaultdict(list)
        for hit in hits:
            by_entry[hit.entry_id].append(hit)
        groups: list[tuple[float, str, ContextSource]] = []
        for entry_id, entry_hits in by_entry.items():
            best = max(h.score for h in entry_hits)
            title = entry_hits[0].title
            positions = sorted({h.position for h in entry_hits})
            # Pull in the chunk between two hits so that the merged passage reads continuously.
            gaps = [p + 1 for p, q in pairwise(positions) if q - p == 2]
            extra = await self._index.neighbours(organization_id, entry_id, gaps) if gaps else []
            chunks = {h.position: h.content for h in [*entry_hits, *extra]}
            runs: list[list[int]] = []
            for position in sorted(chunks):
                if runs and position == runs[-1][-1] + 1:
                    runs[-1].append(position)
                else:
                    runs.append([position])
            for run in runs:
                text = _body(chunks[run[0]], title)
                for position in run[1:]:
                    text = _merge(text, _body(chunks[position], title))
                run_score = max((h.score for h in entry_hits if h.position in run), default=best)
                groups.append((run_score, text, ContextSource(entry_id, title, round(best, 4))))
        groups.sort(key=lambda g: g[0], reverse=True)

        parts: list[str] = []
        passages: list[tuple[ContextSource, str]] = []
        sources: dict[UUID, ContextSource] = {}
        used = 0
        count = self._tokens.count

        def cost_of(label: str, text: str) -> int:
            return (count(label + text) if exact else count(label) + count(text) + 1) + 2

        for _, text, source in groups:
            label = f"[S{len(parts) + 1}] {source.title}\n"
            block = label + text
            cost = cost_of(label, text)
            if used + cost > max_tokens:
                room = max_tokens - used - self._tokens.count(f"[S{len(parts) + 1}] {source.title}\n") - 2
                if room < 40:
                    break
                text = self._tokens.truncate(text, room)
                block = label + text
                cost = cost_of(label, text)
            parts.append(block)
            passages.append((source, text))
            sources.setdefault(source.entry_id, source)
            used += cost
        context = "\n\n".join(parts)
        total = (count(context) if exact else max(0, used - 2)) if context else 0
        return BuiltContext(context, list(sources.values()), total, passages)
