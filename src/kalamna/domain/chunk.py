"""A piece of a knowledge entry sized for embedding and retrieval."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Chunk:
    """``content`` is what gets embedded and shown to the model (it starts with the entry title);
    ``token_count`` counts all of ``content``; ``position`` orders the chunks of an entry from 0."""

    content: str
    token_count: int
    position: int
