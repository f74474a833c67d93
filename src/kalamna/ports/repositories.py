"""Persistence ports. Every tenant lookup takes the organization id together with the resource id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from kalamna.domain.bot_config import BotConfig
from kalamna.domain.identity import Employee, Organization
from kalamna.domain.tokens import OneTimeToken, RefreshSession, TokenPurpose


class UnitOfWork(Protocol):
    """One transaction per request or job: ``commit`` once at the end of a use case."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class OrganizationRepository(Protocol):
    async def add(self, organization: Organization) -> None: ...

    async def get(self, organization_id: UUID) -> Organization | None: ...

    async def save(self, organization: Organization) -> None: ...


class EmployeeRepository(Protocol):
    async def add(self, employee: Employee) -> None: ...

    async def get(self, employee_id: UUID) -> Employee | None:
        """Any employee by id; for the principal's own record and platform administration."""
        ...

    async def get_in_organization(self, organization_id: UUID, employee_id: UUID) -> Employee | None: ...

    async def get_by_email(self, email: str) -> Employee | None: ...

    async def save(self, employee: Employee) -> None: ...

    async def list_by_organization(self, organization_id: UUID) -> Sequence[Employee]: ...


class OneTimeTokenRepository(Protocol):
    async def add(self, token: OneTimeToken) -> None: ...

    async def find(self, token_hash: str, purpose: TokenPurpose) -> OneTimeToken | None: ...

    async def consume(self, token_id: UUID, now: datetime) -> bool:
        """Atomically mark a usable token used; False when another caller got there first."""
        ...

    async def revoke_for_employee(self, employee_id: UUID, purpose: TokenPurpose, now: datetime) -> None:
        """A newer token of the same purpose invalidates the older ones."""
        ...


class RefreshSessionRepository(Protocol):
    async def add(self, session: RefreshSession) -> None: ...

    async def find(self, token_hash: str) -> RefreshSession | None: ...

    async def rotate(self, session_id: UUID, successor: RefreshSession, now: datetime) -> bool:
        """Atomically revoke an active session and insert its successor; False if it was no longer
        active (a concurrent refresh or a reuse)."""
        ...

    async def revoke(self, session_id: UUID, now: datetime) -> None: ...

    async def revoke_family(self, family_id: UUID, now: datetime) -> None: ...

    async def revoke_all_for_employee(self, employee_id: UUID, now: datetime) -> None: ...


class BotConfigRepository(Protocol):
    async def add(self, config: BotConfig) -> None: ...

    async def get(self, organization_id: UUID) -> BotConfig | None: ...

    async def save(self, config: BotConfig) -> None: ...
