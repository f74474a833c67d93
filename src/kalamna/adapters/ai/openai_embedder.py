"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, vLLM, Ollama, TEI,
llama.cpp server, ...), through the official ``openai`` SDK.

Inputs go in batches of ``batch_size`` (one request each), vectors come back in input order.
Retries and backoff are the SDK's (``max_retries``: connection errors, timeouts, 408/409/429/5xx;
exponential from 0.5 s to 8 s with jitter, ``Retry-After`` honoured). Anything left after that, and
any answer of the wrong shape (missing vectors, wrong dimensions), is
:class:`kalamna.domain.errors.EmbedderUnavailable`.

Queries and passages are embedded the same way, with no prefix: models that want instructions
(e5's ``query:``/``passage:``) need their own adapter.
"""

from __future__ import annotations

import array
import base64
import logging
import sys
from collections.abc import Mapping, Sequence
from typing import Literal, cast

import openai

from kalamna.adapters.ai.openai_client import openai_client
from kalamna.domain.errors import EmbedderUnavailable

log = logging.getLogger("kalamna.ai")

EncodingFormat = Literal["float", "base64"]

# Native sizes of OpenAI's models, so that ``dimensions`` may be left unset for them.
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}

_FAILURES: tuple[type[Exception], ...] = (openai.OpenAIError, ValueError, TypeError)


def decode_base64_vector(data: str) -> list[float]:
    """A base64 string of little-endian float32 values, as the embeddings API sends them."""
    values = array.array("f", base64.b64decode(data, validate=True))
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


class OpenAIEmbedder:
    """Implements ``kalamna.ports.ai.Embedder``. One per process (APP scope); :meth:`aclose` it.

    ``dimensions`` is the size of the vectors the index stores; it may be omitted for OpenAI's own
    models. ``send_dimensions`` asks the server to shorten the vectors (only ``text-embedding-3-*``
    and Matryoshka models accept the parameter); by default it is sent only to
    ``text-embedding-3-*`` when ``dimensions`` is given.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str = "not-needed",
        dimensions: int | None = None,
        send_dimensions: bool | None = None,
        batch_size: int = 64,
        encoding_format: EncodingFormat = "base64",
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        max_retries: int = 3,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        if dimensions is None:
            dimensions = KNOWN_DIMENSIONS.get(model)
            if dimensions is None:
                raise ValueError(
                    f"the vector size of embedding model {model!r} is unknown: "
                    "set KALAMNA_EMBEDDING_DIMENSIONS"
                )
            send_dimensions = False if send_dimensions is None else send_dimensions
        if dimensions < 1:
            raise ValueError("dimensions must be positive")
        if not 1 <= batch_size <= 2048:
            raise ValueError("batch_size must be between 1 and 2048")
        if send_dimensions is None:
            send_dimensions = model.startswith("text-embedding-3")
        self._model = model
        self._dimensions = dimensions
        self._send_dimensions = send_dimensions
        self._batch_size = batch_size
        self._encoding_format = encoding_format
        self._client = openai_client(
            base_url, api_key, timeout_s, connect_timeout_s, max_retries, default_headers
        )

    @property
    def model(self) -> str:
        return self._model

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def aclose(self) -> None:
        await self._client.close()

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(await self._embed_batch(list(texts[start : start + self._batch_size])))
        return vectors

    async def embed_query(self, text: str) -> list[float]:
        return (await self._embed_batch([text]))[0]

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        # The API rejects empty strings; a blank text still needs a vector (of a single space).
        inputs = [text if text.strip() else " " for text in texts]
        try:
            response = await self._client.embeddings.create(
                model=self._model,
                input=inputs,
                encoding_format=self._encoding_format,
                dimensions=self._dimensions if self._send_dimensions else openai.omit,
            )
            by_index: dict[int, list[float]] = {}
            for item in response.data:
                raw = cast(object, item.embedding)
                if isinstance(raw, str):
                    by_index[item.index] = decode_base64_vector(raw)
                elif isinstance(raw, list):
                    by_index[item.index] = [float(value) for value in raw]
                else:
                    raise ValueError(f"unexpected embedding of type {type(raw).__name__}")
        except _FAILURES as error:
            raise self._unavailable(error) from error
        if sorted(by_index) != list(range(len(inputs))):
            raise self._unavailable(ValueError(f"{len(by_index)} vectors for {len(inputs)} inputs"))
        vectors = [by_index[i] for i in range(len(inputs))]
        if any(len(vector) != self._dimensions for vector in vectors):
            size = next(len(v) for v in vectors if len(v) != self._dimensions)
            raise self._unavailable(ValueError(f"vectors of {size} dimensions, expected {self._dimensions}"))
        return vectors

    def _unavailable(self, error: BaseException) -> EmbedderUnavailable:
        status = getattr(error, "status_code", None)
        log.warning(
            "embedding model %s unavailable: %s%s: %s",
            self._model,
            type(error).__name__,
            f" HTTP {status}" if status else "",
            error,
        )
        return EmbedderUnavailable()
