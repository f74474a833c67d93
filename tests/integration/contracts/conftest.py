"""Each contract test runs twice: against the production container (PostgreSQL, Redis) and against
the same container with the in-memory adapters of the unit tests. A difference is a lying fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from dishka import AsyncContainer

from kalamna.di import make_container
from kalamna.domain.identity import Employee, EmployeeStatus, Organization, OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.ports.repositories import EmployeeRepository, OrganizationRepository, UnitOfWork
from tests.conftest import make_test_settings, wipe
from tests.unit.container import memory_container, unit_settings

T = TypeVar("T")
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(params=["memory", "postgres"])
async def container(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncContainer]:
    if request.param == "memory":
        built = memory_container(unit_settings(tmp_path))
    else:
        services = request.getfixturevalue("services")  # a session fixture: started once
        await wipe(services)
        built = make_container(make_test_settings(services, tmp_path / "data"))
    try:
        yield built
    finally:
        await built.close()


async def in_scope(container: AsyncContainer, port: type[T], action: Callable[[T], Awaitable[Any]]) -> Any:
    """Run ``action`` on the port in a request scope of its own and commit."""
    async with container() as scope:
        result = await action(await scope.get(port))
        await (await scope.get(UnitOfWork)).commit()
        return result


async def read(container: AsyncContainer, port: type[T], action: Callable[[T], Awaitable[Any]]) -> Any:
    """Run ``action`` in a scope of its own that commits nothing."""
    async with container() as scope:
        return await action(await scope.get(port))


def organization(name: str = "Acme", *, at: datetime = NOW) -> Organization:
    return Organization(new_id(), name, OrganizationStatus.ACTIVE, at, at)


def employee(
    org: Organization | None, email: str, role: Role = Role.OWNER, *, at: datetime = NOW
) -> Employee:
    return Employee(
        new_id(),
        org.id if org else None,
        email,
        email.split("@")[0],
        role,
        EmployeeStatus.ACTIVE,
        "h",
        at,
        at,
    )


async def seed(container: AsyncContainer, *employees_of: tuple[Organization, list[Employee]]) -> None:
    """Organizations and their employees, committed."""
    async with container() as scope:
        for org, members in employees_of:
            await (await scope.get(OrganizationRepository)).add(org)
            for member in members:
                await (await scope.get(EmployeeRepository)).add(member)
        await (await scope.get(UnitOfWork)).commit()
