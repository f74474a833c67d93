"""A query-embedding cache in front of any :class:`kalamna.ports.ai.Embedder`.

Customers repeat questions, and a question's embedding is the only model call a cached answer path
cannot skip: ~10 ms of CPU with the offline model, a network round trip with a remote one. This
decorator keeps the last ``max_entries`` query vectors in a per-process LRU, keyed by the model and
the *normalised* question (Unicode NFKC, runs of whitespace collapsed, ends stripped), and embeds the
normalised text, so a key always maps to the same vector whichever spelling arrived first.

Identical questions arriving together share one embedding call (single flight). Passages are never
cached: ingestion embeds each chunk once. A failure is not cached. Vectors are handed out as copies,
so a caller that mutates one cannot poison the cache.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence

from kalamna.ports.ai import Embedder

_SPACES = re.compile(r"\s+")


def normalise_query(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


class CachedQueryEmbedder:
    """Implements ``kalamna.ports.ai.Embedder`` by delegating to ``inner``; one per process (APP scope)."""

    def __init__(self, inner: Embedder, *, max_entries: int = 4096) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._inner = inner
        self._max_entries = max_entries
        self._vectors: OrderedDict[tuple[str, str], tuple[float, ...]] = OrderedDict()
        self._pending: dict[tuple[str, str], asyncio.Future[tuple[float, ...]]] = {}
        self.hits = 0
        self.misses = 0

    @property
    def inner(self) -> Embedder:
        return self._inner

    @property
    def model(self) -> str:
        return self._inner.model

    @property
    def dimensions(self) -> int:
        return self._inner.dimensions

    def __len__(self) -> int:
        return len(self._vectors)

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return await self._inner.embed_passages(texts)

    async def embed_query(self, text: str) -> list[float]:
        normalised = normalise_query(text)
        key = (self._inner.model, normalised)
        cached = self._vectors.get(key)
        if cached is not None:
            self._vectors.move_to_end(key)
            self.hits += 1
            return list(cached)
        task = self._pending.get(key)
        if task is None:
            self.misses += 1
            task = asyncio.ensure_future(self._embed_and_keep(key, normalised))
            task.add_done_callback(_retrieve_exception)
            self._pending[key] = task
        else:
            self.hits += 1
        # The shared call runs in its own task: a caller that gives up does not cancel the others.
        return list(await asyncio.shield(task))

    async def _embed_and_keep(self, key: tuple[str, str], text: str) -> tuple[float, ...]:
        try:
            vector = tuple(await self._inner.embed_query(text))
        finally:
            del self._pending[key]
        self._vectors[key] = vector
        if len(self._vectors) > self._max_entries:
            self._vectors.popitem(last=False)
        return vector


def _retrieve_exception(task: asyncio.Future[tuple[float, ...]]) -> None:
    # Every waiter may have been cancelled: mark a failure as seen so asyncio does not log it as lost.
    if not task.cancelled():
        task.exception()
