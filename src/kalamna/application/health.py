"""Check every backing service concurrently, each under its own time limit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from kalamna.domain.health import DependencyCheck, DependencyStatus, HealthReport, SchemaStatus
from kalamna.ports.health import DependencyProbe, SchemaInspector


class CheckHealth:
    """``schema``: when given, a database whose schema is behind the code fails the ``database``
    check with ``schema_behind`` (the process would fail on missing tables or columns)."""

    def __init__(
        self,
        probes: Sequence[DependencyProbe],
        *,
        version: str,
        timeout_s: float = 2.0,
        schema: SchemaInspector | None = None,
        schema_check: str = "database",
    ) -> None:
        self._probes = probes
        self._version = version
        self._timeout_s = timeout_s
        self._schema = schema
        self._schema_check = schema_check

    async def __call__(self) -> HealthReport:
        results, schema = await asyncio.gather(
            asyncio.gather(*(self._run(probe) for probe in self._probes)), self._schema_status()
        )
        checks = tuple(
            replace(check, status=DependencyStatus.SCHEMA_BEHIND)
            if schema is not None
            and schema.behind
            and check.name == self._schema_check
            and check.status is DependencyStatus.OK
            else check
            for check in results
        )
        return HealthReport(version=self._version, checks=checks, schema=schema)

    async def _schema_status(self) -> SchemaStatus | None:
        if self._schema is None:
            return None
        try:
            return await asyncio.wait_for(self._schema.status(), timeout=self._timeout_s)
        except Exception:  # the database check reports why
            return None

    async def _run(self, probe: DependencyProbe) -> DependencyCheck:
        try:
            await asyncio.wait_for(probe.check(), timeout=self._timeout_s)
            status = DependencyStatus.OK
        except TimeoutError:
            status = DependencyStatus.TIMEOUT
        except (ConnectionError, OSError):
            status = DependencyStatus.UNAVAILABLE
        except Exception:  # a probe must never break the health endpoint itself
            status = DependencyStatus.ERROR
        return DependencyCheck(name=probe.name, status=status, required=probe.required)
