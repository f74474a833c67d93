from __future__ import annotations

from typing import Protocol


class DependencyProbe(Protocol):
    """Checks one backing service. ``check`` raises on failure; the use case classifies it."""

    name: str
    required: bool

    async def check(self) -> None: ...
