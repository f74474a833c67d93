"""PostgreSQL only: concurrent consumers of one token (the shared contract of the in-memory and
PostgreSQL repositories is in ``tests/integration/contracts``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from kalamna.adapters.postgres.repositories.identity import SqlaEmployeeRepository, SqlaOrganizationRepository
from kalamna.adapters.postgres.repositories.tokens import SqlaOneTimeTokenRepository
from kalamna.adapters.postgres.unit_of_work import SqlaUnitOfWork
from kalamna.domain.identity import Employee, EmployeeStatus, Organization, OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.tokens import OneTimeToken, TokenPurpose

NOW = datetime.now(UTC).replace(microsecond=0)


async def test_concurrent_consumers_get_exactly_one_success(services, clean_state) -> None:  # type: ignore[no-untyped-def]
    engine: AsyncEngine = create_async_engine(services.database_url, pool_size=6)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with factory() as session:
            org = Organization(new_id(), "Acme", OrganizationStatus.ACTIVE, NOW, NOW)
            await SqlaOrganizationRepository(session).add(org)
            employee = Employee(
                new_id(), org.id, "a@acme.test", "A", Role.OWNER, EmployeeStatus.ACTIVE, "h", NOW, NOW
            )
            await SqlaEmployeeRepository(session).add(employee)
            token = OneTimeToken(
                new_id(), TokenPurpose.VERIFY_EMAIL, "c1", NOW + timedelta(hours=1), NOW, employee.id
            )
            await SqlaOneTimeTokenRepository(session).add(token)
            await SqlaUnitOfWork(session).commit()

        async def consume() -> bool:
            async with factory() as session:
                ok = await SqlaOneTimeTokenRepository(session).consume(token.id, NOW)
                await session.commit()
                return bool(ok)

        results = await asyncio.gather(*(consume() for _ in range(6)))
        assert sorted(results) == [False] * 5 + [True]
    finally:
        await engine.dispose()
