"""Check every backing service concurrently, each under its own time limit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from kalamna.domain.health import DependencyCheck, DependencyStatus, HealthReport
from kalamna.ports.health import DependencyProbe


class CheckHealth:
    def __init__(self, probes: Sequence[DependencyProbe], *, version: str, timeout_s: float = 2.0) -> None:
        self._probes = probes
        self._version = version
        self._timeout_s = timeout_s

    async def __call__(self) -> HealthReport:
        results = await asyncio.gather(*(self._run(probe) for probe in self._probes))
        return HealthReport(version=self._version, checks=tuple(results))

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
