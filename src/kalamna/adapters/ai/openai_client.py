"""The OpenAI-compatible client both the chat model and the embedder use."""

from __future__ import annotations

from collections.abc import Mapping

import openai


def openai_client(
    base_url: str | None,
    api_key: str,
    timeout_s: float,
    connect_timeout_s: float,
    max_retries: int,
    default_headers: Mapping[str, str] | None,
) -> openai.AsyncOpenAI:
    """A client whose connect timeout never exceeds the request timeout."""
    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key=api_key,
        timeout=openai.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s)),
        max_retries=max_retries,
        default_headers=default_headers,
    )
