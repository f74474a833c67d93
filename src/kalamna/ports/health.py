from __future__ import annotations

from typing import Protocol

from kalamna.domain.health import SchemaStatus


class DependencyProbe(Protocol):
    """Checks one backing service. ``check`` raises on failure; the use case classifies it."""

    name: str
    required: bool

    async def check(self) -> None: ...


class SchemaInspector(Protocol):
    """Reads the database's schema revision and compares it with the code's. Raises when the
    database cannot be reached."""

    async def status(self) -> SchemaStatus: ...
