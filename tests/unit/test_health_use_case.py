from __future__ import annotations

import asyncio

from kalamna.application.health import CheckHealth
from kalamna.domain.health import DependencyStatus


class Probe:
    def __init__(self, name: str, behaviour: str, required: bool = True) -> None:
        self.name = name
        self.required = required
        self._behaviour = behaviour

    async def check(self) -> None:
        if self._behaviour == "down":
            raise ConnectionError("refused")
        if self._behaviour == "slow":
            await asyncio.sleep(5)
        if self._behaviour == "broken":
            raise RuntimeError("bug")


async def test_all_ok() -> None:
    report = await CheckHealth([Probe("database", "ok"), Probe("redis", "ok")], version="1")()
    assert report.healthy
    assert [c.status for c in report.checks] == [DependencyStatus.OK, DependencyStatus.OK]


async def test_down_slow_and_broken_are_classified_and_named() -> None:
    use_case = CheckHealth(
        [Probe("database", "down"), Probe("redis", "slow"), Probe("queue", "broken"), Probe("llm", "ok")],
        version="1",
        timeout_s=0.05,
    )
    report = await use_case()
    assert not report.healthy
    assert {c.name: c.status for c in report.checks} == {
        "database": DependencyStatus.UNAVAILABLE,
        "redis": DependencyStatus.TIMEOUT,
        "queue": DependencyStatus.ERROR,
        "llm": DependencyStatus.OK,
    }
    assert report.failing == ["database", "redis", "queue"]


async def test_optional_dependency_down_keeps_service_healthy() -> None:
    report = await CheckHealth([Probe("database", "ok"), Probe("llm", "down", required=False)], version="1")()
    assert report.healthy
