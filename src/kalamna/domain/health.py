"""Health of the backing services, as the operations contract reports it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DependencyStatus(StrEnum):
    OK = "ok"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    ERROR = "error"
    # Reported for optional, non-network components (e.g. the offline embedder) before first use.
    NOT_LOADED = "not_loaded"
    # The database answers but its schema is older than the code (run `kalamna migrate`).
    SCHEMA_BEHIND = "schema_behind"


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """The database's migration revision (None: never migrated) and the one the code expects."""

    revision: str | None
    expected: str
    behind: bool


@dataclass(frozen=True, slots=True)
class DependencyCheck:
    name: str
    status: DependencyStatus
    required: bool

    @property
    def healthy(self) -> bool:
        return self.status in (DependencyStatus.OK, DependencyStatus.NOT_LOADED)


@dataclass(frozen=True, slots=True)
class HealthReport:
    version: str
    checks: tuple[DependencyCheck, ...]
    schema: SchemaStatus | None = None

    @property
    def healthy(self) -> bool:
        """Healthy when every *required* dependency is; optional ones only inform."""
        return all(check.healthy for check in self.checks if check.required)

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.checks if c.required and not c.healthy]
