"""/health and the schema revision: behind fails the database check, ahead does not."""

from __future__ import annotations

from kalamna.application.health import CheckHealth
from kalamna.domain.health import DependencyStatus, SchemaStatus
from tests.unit.test_health_use_case import Probe


class Inspector:
    def __init__(self, status: SchemaStatus | None) -> None:
        self._status = status

    async def status(self) -> SchemaStatus:
        if self._status is None:
            raise ConnectionError("refused")
        return self._status


async def report(status: SchemaStatus | None, database: str = "ok"):  # type: ignore[no-untyped-def]
    probes = [Probe("database", database), Probe("redis", "ok")]
    return await CheckHealth(probes, version="1", schema=Inspector(status))()


async def test_a_database_behind_the_code_is_unhealthy() -> None:
    result = await report(SchemaStatus("0006", "0008", behind=True))
    assert not result.healthy
    assert {c.name: c.status for c in result.checks} == {
        "database": DependencyStatus.SCHEMA_BEHIND,
        "redis": DependencyStatus.OK,
    }
    assert result.schema == SchemaStatus("0006", "0008", behind=True)


async def test_a_current_or_newer_schema_is_healthy() -> None:
    assert (await report(SchemaStatus("0008", "0008", behind=False))).healthy
    assert (await report(SchemaStatus("0009", "0008", behind=False))).healthy


async def test_an_unreachable_database_is_reported_as_such() -> None:
    result = await report(None, database="down")
    assert not result.healthy
    assert result.checks[0].status is DependencyStatus.UNAVAILABLE
    assert result.schema is None
