"""The same contract for the in-memory and the PostgreSQL repositories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from kalamna.adapters.memory import identity as memory
from kalamna.adapters.postgres.repositories.identity import SqlaEmployeeRepository, SqlaOrganizationRepository
from kalamna.adapters.postgres.repositories.tokens import (
    SqlaOneTimeTokenRepository,
    SqlaRefreshSessionRepository,
)
from kalamna.adapters.postgres.unit_of_work import SqlaUnitOfWork
from kalamna.domain.errors import EmailTaken
from kalamna.domain.identity import Employee, EmployeeStatus, Organization, OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.tokens import OneTimeToken, RefreshSession, TokenPurpose

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Repos:
    orgs: Any
    employees: Any
    tokens: Any
    sessions: Any
    uow: Any


@pytest.fixture(params=["memory", "postgres"])
async def repos(request, services, clean_state) -> AsyncIterator[Repos]:  # type: ignore[no-untyped-def]
    if request.param == "memory":
        store = memory.MemoryStore()
        yield Repos(
            memory.MemoryOrganizationRepository(store),
            memory.MemoryEmployeeRepository(store),
            memory.MemoryOneTimeTokenRepository(store),
            memory.MemoryRefreshSessionRepository(store),
            memory.MemoryUnitOfWork(store),
        )
        return
    engine = create_async_engine(services.database_url)
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        yield Repos(
            SqlaOrganizationRepository(session),
            SqlaEmployeeRepository(session),
            SqlaOneTimeTokenRepository(session),
            SqlaRefreshSessionRepository(session),
            SqlaUnitOfWork(session),
        )
    await engine.dispose()


async def seed(repos: Repos, email: str = "a@acme.test") -> Employee:
    org = Organization(new_id(), "Acme", OrganizationStatus.ACTIVE, NOW, NOW)
    await repos.orgs.add(org)
    employee = Employee(new_id(), org.id, email, "A", Role.OWNER, EmployeeStatus.ACTIVE, "h", NOW, NOW)
    await repos.employees.add(employee)
    await repos.uow.commit()
    return employee


async def test_employee_lookup_is_scoped_by_organization(repos: Repos) -> None:
    employee = await seed(repos)
    assert employee.organization_id
    assert (
        await repos.employees.get_in_organization(employee.organization_id, employee.id)
    ).email == employee.email
    assert await repos.employees.get_in_organization(new_id(), employee.id) is None
    assert (await repos.employees.get_by_email("a@acme.test")).id == employee.id


async def test_email_is_unique(repos: Repos) -> None:
    await seed(repos)
    with pytest.raises(EmailTaken):
        await seed(repos)


async def test_one_time_token_is_consumed_once_and_newer_revokes_older(repos: Repos) -> None:
    employee = await seed(repos)
    old = OneTimeToken(
        new_id(), TokenPurpose.RESET_PASSWORD, "d1", NOW + timedelta(hours=1), NOW, employee.id
    )
    await repos.tokens.add(old)
    assert (await repos.tokens.find("d1", TokenPurpose.RESET_PASSWORD)).id == old.id
    assert await repos.tokens.find("d1", TokenPurpose.VERIFY_EMAIL) is None
    await repos.tokens.revoke_for_employee(employee.id, TokenPurpose.RESET_PASSWORD, NOW)
    assert await repos.tokens.consume(old.id, NOW) is False
    new = OneTimeToken(
        new_id(), TokenPurpose.RESET_PASSWORD, "d2", NOW + timedelta(hours=1), NOW, employee.id
    )
    await repos.tokens.add(new)
    assert await repos.tokens.consume(new.id, NOW) is True
    assert await repos.tokens.consume(new.id, NOW) is False


async def test_expired_token_cannot_be_consumed(repos: Repos) -> None:
    employee = await seed(repos)
    token = OneTimeToken(
        new_id(), TokenPurpose.VERIFY_EMAIL, "d3", NOW - timedelta(seconds=1), NOW, employee.id
    )
    await repos.tokens.add(token)
    assert await repos.tokens.consume(token.id, NOW) is False


async def test_refresh_rotation_is_single_shot_and_family_revocation(repos: Repos) -> None:
    employee = await seed(repos)
    family = new_id()
    first = RefreshSession(new_id(), family, employee.id, "r1", NOW + timedelta(days=7), NOW)
    await repos.sessions.add(first)
    second = RefreshSession(new_id(), family, employee.id, "r2", NOW + timedelta(days=7), NOW)
    assert await repos.sessions.rotate(first.id, second, NOW) is True
    third = RefreshSession(new_id(), family, employee.id, "r3", NOW + timedelta(days=7), NOW)
    assert await repos.sessions.rotate(first.id, third, NOW) is False
    rotated = await repos.sessions.find("r1")
    assert rotated.was_rotated
    await repos.sessions.revoke_family(family, NOW)
    assert not (await repos.sessions.find("r2")).is_active(NOW)


async def test_concurrent_consumers_get_exactly_one_success(services, clean_state) -> None:  # type: ignore[no-untyped-def]
    engine: AsyncEngine = create_async_engine(services.database_url, pool_size=6)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with factory() as session:
            repos = Repos(
                SqlaOrganizationRepository(session),
                SqlaEmployeeRepository(session),
                SqlaOneTimeTokenRepository(session),
                SqlaRefreshSessionRepository(session),
                SqlaUnitOfWork(session),
            )
            employee = await seed(repos)
            token = OneTimeToken(
                new_id(), TokenPurpose.VERIFY_EMAIL, "c1", NOW + timedelta(hours=1), NOW, employee.id
            )
            await repos.tokens.add(token)
            await repos.uow.commit()

        async def consume() -> bool:
            async with factory() as session:
                ok = await SqlaOneTimeTokenRepository(session).consume(token.id, NOW)
                await session.commit()
                return bool(ok)

        results = await asyncio.gather(*(consume() for _ in range(6)))
        assert sorted(results) == [False] * 5 + [True]
    finally:
        await engine.dispose()
