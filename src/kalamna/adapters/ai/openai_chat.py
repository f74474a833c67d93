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
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

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
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=openai.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s)),
            max_retries=max_retries,
            default_headers=default_headers,
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
            try:
                chunks = await self._client.chat.completions.create(
                    **request, stream=True, stream_options={"include_usage": True}
                )
            except _FAILURES as error:  # the SDK has already retried this one
                raise self._unavailable(error, during="stream start") from error

            parts: list[str] = []
            usage: ChatUsage | None = None
            finished = False
            failure: BaseException | None = None
            try:
                async for chunk in chunks:
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
            except _FAILURES as error:
                failure = error
            finally:
                await chunks.close()

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
