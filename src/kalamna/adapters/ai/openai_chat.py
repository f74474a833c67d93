"""Chat completions from any OpenAI-compatible endpoint (OpenAI, Azure-compatible gateways, vLLM,
Ollama, llama.cpp server, LiteLLM, ...), through the official ``openai`` SDK.

Retries. The SDK retries a request itself (``max_retries``) on connection errors, timeouts, 408, 409,
429 and 5xx, with exponential backoff from 0.5 s up to 8 s and 25 % jitter, honouring ``Retry-After``
/ ``retry-after-ms`` up to two minutes (``openai/_base_client.py``: ``_should_retry``,
``_calculate_retry_timeout``). For a stream that covers everything up to the response headers only:
a stream that breaks after ``200 OK`` is not retried by the SDK. This adapter therefore retries a
stream that fails *before its first text delta* (with the same backoff), and never restarts one that
fails mid-way (the caller has already forwarded part of the reply): that raises ``LlmUnavailable``.

Timeouts are httpx timeouts: ``timeout_s`` bounds each read (for a stream, the wait for the first
token and the gap between tokens), ``connect_timeout_s`` the connection.

Every failure left after the retries, whatever the transport said, becomes
:class:`kalamna.domain.errors.LlmUnavailable`; the cause is logged, never shown to the customer.

Streaming goes through the SDK's *raw* streaming response (``with_streaming_response``): the SDK
still does auth, base URL, retries up to the headers, timeouts and status-error mapping, but the
body is read here as bytes, split into server-sent events and decoded with msgspec into the few
fields we use (:func:`parse_sse`, :class:`StreamChunk`). Building the SDK's pydantic
``ChatCompletionChunk`` per streamed token was about a quarter of the server's CPU per message;
``bench/openai_stream.py`` measures the difference.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal, cast

import msgspec
import openai
from openai.types.chat import ChatCompletionMessageParam

from kalamna.adapters.ai.openai_client import openai_client
from kalamna.application.chat.prompt import estimate_prompt_tokens
from kalamna.domain.ai import ChatMessage, ChatResult, ChatUsage
from kalamna.domain.errors import LlmUnavailable
from kalamna.ports.ai import TokenCounter

log = logging.getLogger("kalamna.ai")

MaxTokensField = Literal["max_tokens", "max_completion_tokens"]

# Everything the SDK raises for a failed call (APIConnectionError, APITimeoutError, APIStatusError,
# APIError for an error event inside a stream), and what a malformed body raises while decoding.
_FAILURES: tuple[type[Exception], ...] = (openai.OpenAIError, ValueError)

_MAX_BACKOFF_S = 8.0
_DRAIN_TIMEOUT_S = 1.0


class StreamDelta(msgspec.Struct):
    content: str | None = None


class StreamChoice(msgspec.Struct):
    index: int = 0
    delta: StreamDelta | None = None
    finish_reason: str | None = None


class StreamUsage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class StreamChunk(msgspec.Struct):
    """The fields of a ``chat.completion.chunk`` this adapter reads; every other field is skipped
    by the decoder without being materialised. ``error`` is what a server sends instead of a chunk
    when it fails mid-stream."""

    choices: list[StreamChoice] = msgspec.field(default_factory=list)
    usage: StreamUsage | None = None
    error: Any = None


_decode_chunk = msgspec.json.Decoder(StreamChunk).decode


class StreamError(Exception):
    """An ``error`` object inside an SSE stream."""


def parse_sse(buffer: bytearray, data: bytes) -> list[bytes]:
    """Append ``data`` to ``buffer`` and return the payloads of the events it completes.

    Server-sent events: lines end with LF, CRLF or CR; an event's ``data:`` lines are joined with
    LF and the event ends at a blank line; other fields (``event:``, ``id:``, comments) are
    ignored. What is left of an unfinished event stays in ``buffer``.
    """
    buffer += data
    if b"\r" in buffer:
        buffer[:] = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    end = buffer.rfind(b"\n\n")
    if end < 0:
        return []
    events = bytes(buffer[:end]).split(b"\n\n")
    del buffer[: end + 2]
    payloads = []
    for event in events:
        lines = [line for line in event.split(b"\n") if line.startswith(b"data:")]
        if not lines:
            continue
        if len(lines) == 1:
            payload = lines[0][5:]
        else:
            payload = b"\n".join(line[5:].removeprefix(b" ") for line in lines)
        payloads.append(payload.removeprefix(b" "))
    return payloads


class OpenAIChatModel:
    """Implements ``kalamna.ports.ai.ChatModel``. Create one per process (APP scope): it owns a
    connection pool; close it with :meth:`aclose`.

    ``max_tokens_field``: ``"max_tokens"`` is understood by every OpenAI-compatible server;
    OpenAI's reasoning models need ``"max_completion_tokens"``. ``extra_body`` is merged into every
    request (server-specific options such as vLLM's ``top_k``). ``tokens`` counts usage when a server
    does not report it.
    """

    def __init__(
        self,
        *,
        model: str,
        tokens: TokenCounter,
        base_url: str | None = None,
        api_key: str = "not-needed",
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        max_retries: int = 2,
        stream_retry_delay_s: float = 0.5,
        max_tokens_field: MaxTokensField = "max_tokens",
        extra_body: Mapping[str, object] | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self._model = model
        self._tokens = tokens
        self._max_retries = max_retries
        self._stream_retry_delay_s = stream_retry_delay_s
        self._max_tokens_field = max_tokens_field
        self._extra_body = dict(extra_body) if extra_body else None
        self._client = openai_client(
            base_url, api_key, timeout_s, connect_timeout_s, max_retries, default_headers
        )

    @property
    def model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        await self._client.close()

    def _request(
        self, messages: Sequence[ChatMessage], temperature: float, max_tokens: int
    ) -> dict[str, Any]:
        wire = [{"role": m.role, "content": m.content} for m in messages]
        request: dict[str, Any] = {
            "model": self._model,
            "messages": cast("list[ChatCompletionMessageParam]", wire),
            "temperature": temperature,
            self._max_tokens_field: max_tokens,
        }
        if self._extra_body:
            request["extra_body"] = self._extra_body
        return request

    def _estimated_usage(self, messages: Sequence[ChatMessage], text: str) -> ChatUsage:
        return ChatUsage(estimate_prompt_tokens(self._tokens, messages), self._tokens.count(text))

    def _unavailable(self, error: BaseException, *, during: str) -> LlmUnavailable:
        status = getattr(error, "status_code", None)
        log.warning(
            "chat model %s unavailable (%s): %s%s: %s",
            self._model,
            during,
            type(error).__name__,
            f" HTTP {status}" if status else "",
            error,
        )
        return LlmUnavailable()

    def _backoff(self, retry: int) -> float:
        delay = min(self._stream_retry_delay_s * 2.0 ** (retry - 1), _MAX_BACKOFF_S)
        return delay * (1 - 0.25 * random.random())  # noqa: S311 - jitter, not cryptography

    async def complete(
        self, messages: Sequence[ChatMessage], *, temperature: float, max_tokens: int
    ) -> ChatResult:
        try:
            response = await self._client.chat.completions.create(
                **self._request(messages, temperature, max_tokens), stream=False
            )
        except _FAILURES as error:
            raise self._unavailable(error, during="completion") from error
        if not response.choices:
            raise self._unavailable(ValueError("no choices in the response"), during="completion")
        text = response.choices[0].message.content or ""
        if response.usage is not None:
            usage = ChatUsage(response.usage.prompt_tokens, response.usage.completion_tokens)
        else:
            usage = self._estimated_usage(messages, text)
        return ChatResult(text=text, usage=usage, model=response.model or self._model)

    async def stream(
        self, messages: Sequence[ChatMessage], *, temperature: float, max_tokens: int
    ) -> AsyncIterator[str | ChatUsage]:
        request = self._request(messages, temperature, max_tokens)
        retries = 0
        while True:
            opening = self._client.chat.completions.with_streaming_response.create(
                **request, stream=True, stream_options={"include_usage": True}
            )
            try:
                response = await opening.__aenter__()
            except _FAILURES as error:  # the SDK has already retried this one
                raise self._unavailable(error, during="stream start") from error

            parts: list[str] = []
            usage: ChatUsage | None = None
            finished = False
            failure: BaseException | None = None
            chunks = response.http_response.aiter_bytes()
            try:
                buffer = bytearray()
                async for data in chunks:
                    for payload in parse_sse(buffer, data):
                        if payload.startswith(b"[DONE]"):
                            await _drain(chunks)
                            break
                        chunk = _decode_chunk(payload)
                        if chunk.error:
                            raise StreamError(str(chunk.error)[:500])
                        if chunk.usage is not None:
                            usage = ChatUsage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                        for choice in chunk.choices:
                            if choice.index != 0:
                                continue
                            if choice.finish_reason is not None:
                                finished = True
                            text = choice.delta.content if choice.delta is not None else None
                            if text:
                                parts.append(text)
                                yield text
            except Exception as error:  # a read error of the SDK's HTTP library (httpx or httpx2), bad event
                failure = error
            finally:
                await chunks.aclose()
                await opening.__aexit__(None, None, None)

            if failure is None and not finished and usage is None:
                # The body ended without a finish reason or usage: the server or a proxy cut it short.
                failure = ConnectionError("the stream ended before the reply was complete")
            if failure is None:
                yield usage or self._estimated_usage(messages, "".join(parts))
                return
            if parts or retries >= self._max_retries:
                during = "mid-stream" if parts else "stream, before the first token"
                raise self._unavailable(failure, during=during) from failure
            retries += 1
            log.info("chat stream failed before its first token; retry %d of %d", retries, self._max_retries)
            await asyncio.sleep(self._backoff(retries))


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read what follows ``[DONE]`` (normally just the end of the chunked body), so that an HTTP/1.1
    connection goes back to the pool instead of being closed."""
    try:
        async with asyncio.timeout(_DRAIN_TIMEOUT_S):
            async for _ in chunks:
                pass
    except Exception:  # noqa: S110 - the reply is complete; a connection not reusable is closed
        pass
