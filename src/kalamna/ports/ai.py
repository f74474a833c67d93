"""Ports for the AI side: token counting, embeddings, chat models.

These are the shapes the knowledge pipeline and the answering use case program against; adapters live
in ``kalamna.adapters.ai`` (offline defaults and OpenAI-compatible endpoints).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from kalamna.domain.ai import ChatMessage, ChatResult, ChatUsage


class TokenCounter(Protocol):
    """Counts and cuts text in model tokens (tiktoken ``cl100k_base`` by default)."""

    def count(self, text: str) -> int: ...

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` that fits in ``max_tokens`` tokens."""
        ...


class Embedder(Protocol):
    """Turns text into vectors. ``model`` names the vector space: vectors from different models are
    never compared. Queries and passages may be embedded differently (e5's ``query:``/``passage:``)."""

    @property
    def model(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]: ...

    async def embed_query(self, text: str) -> list[float]: ...


class ChatModel(Protocol):
    """Generates a reply. Raises ``kalamna.domain.errors.LlmUnavailable`` when the model cannot be
    reached (after its own retries), never a transport-specific error."""

    @property
    def model(self) -> str: ...

    async def complete(
        self, messages: Sequence[ChatMessage], *, temperature: float, max_tokens: int
    ) -> ChatResult: ...

    def stream(
        self, messages: Sequence[ChatMessage], *, temperature: float, max_tokens: int
    ) -> AsyncIterator[str | ChatUsage]:
        """Yield text deltas as they arrive, then (once, last) the usage of the whole call."""
        ...
