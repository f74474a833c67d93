"""Decorators that observe ports for Prometheus without touching the use cases.

- ``MeteredChatModel``: LLM latency, errors and tokens (``complete`` and ``stream``).
- ``MeteredEmbedder``: embedding latency and errors (queries and passages).
- ``MeteredChatRepository``: chat first-token and reply latency, read from each assistant reply the
  answering use case stores (the figures it measured from the customer's message on).
- ``MeteredChatTransactions``: the same for replies saved in their own transaction (a reply
  outlives its request, so the reply runner saves it through ``ChatTransactions``).

``kalamna.di.instrumentation`` applies them with Dishka's ``decorate``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from kalamna import metrics
from kalamna.domain.ai import ChatMessage as ModelMessage
from kalamna.domain.ai import ChatResult, ChatUsage
from kalamna.domain.chat import ChatMessage, MessageRole
from kalamna.ports.ai import ChatModel, Embedder
from kalamna.ports.chat import ChatRepository
from kalamna.ports.conversations import ChatTransaction, ChatTransactions


def _tokens(usage: ChatUsage) -> None:
    metrics.LLM_TOKENS.labels("prompt").inc(max(0, usage.prompt_tokens))
    metrics.LLM_TOKENS.labels("completion").inc(max(0, usage.completion_tokens))


class MeteredChatModel:
    def __init__(self, inner: ChatModel) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:  # aclose() and friends
        return getattr(self._inner, name)

    @property
    def model(self) -> str:
        return self._inner.model

    async def complete(
        self, messages: Sequence[ModelMessage], *, temperature: float, max_tokens: int
    ) -> ChatResult:
        started = time.perf_counter()
        try:
            result = await self._inner.complete(messages, temperature=temperature, max_tokens=max_tokens)
        except Exception:
            metrics.LLM_ERRORS.labels("complete").inc()
            raise
        finally:
            metrics.LLM_DURATION.labels("complete").observe(time.perf_counter() - started)
        _tokens(result.usage)
        return result

    async def stream(
        self, messages: Sequence[ModelMessage], *, temperature: float, max_tokens: int
    ) -> AsyncIterator[str | ChatUsage]:
        started = time.perf_counter()
        try:
            async for item in self._inner.stream(messages, temperature=temperature, max_tokens=max_tokens):
                if isinstance(item, ChatUsage):
                    _tokens(item)
                yield item
        except GeneratorExit:
            raise
        except Exception:
            metrics.LLM_ERRORS.labels("stream").inc()
            raise
        finally:
            metrics.LLM_DURATION.labels("stream").observe(time.perf_counter() - started)


class MeteredEmbedder:
    def __init__(self, inner: Embedder) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @property
    def model(self) -> str:
        return self._inner.model

    @property
    def dimensions(self) -> int:
        return self._inner.dimensions

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return await self._inner.embed_passages(texts)
        except Exception:
            metrics.EMBEDDER_ERRORS.labels("passages").inc()
            raise
        finally:
            metrics.EMBEDDER_DURATION.labels("passages").observe(time.perf_counter() - started)

    async def embed_query(self, text: str) -> list[float]:
        started = time.perf_counter()
        try:
            return await self._inner.embed_query(text)
        except Exception:
            metrics.EMBEDDER_ERRORS.labels("query").inc()
            raise
        finally:
            metrics.EMBEDDER_DURATION.labels("query").observe(time.perf_counter() - started)


class MeteredChatRepository:
    def __init__(self, inner: ChatRepository) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def add_message(self, message: ChatMessage) -> None:
        await self._inner.add_message(message)
        if message.role is MessageRole.ASSISTANT and message.latency_ms is not None:
            outcome = message.outcome.value if message.outcome is not None else "none"
            metrics.CHAT_REPLY.labels(outcome).observe(message.latency_ms / 1000)
            if message.first_token_ms is not None:
                metrics.CHAT_FIRST_TOKEN.observe(message.first_token_ms / 1000)


class _MeteredTransaction:
    def __init__(self, inner: ChatTransaction) -> None:
        self._inner = inner
        self.chats = MeteredChatRepository(inner.chats)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class MeteredChatTransactions:
    def __init__(self, inner: ChatTransactions) -> None:
        self._inner = inner

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        async with self._inner() as transaction:
            yield _MeteredTransaction(transaction)
