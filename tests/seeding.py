"""Seed organizations and accounts through the repositories of a container's request scope.

Works with any container: the PostgreSQL-backed one of the API tests and the in-memory one of the
unit tests. The resulting state is the state that registration + verification + sign-in (or an
accepted invitation) leave behind, without the HTTP round trips and emails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dishka import AsyncContainer

from kalamna.application.auth.sessions import SessionIssuer, TokenPair
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.identity import Employee, EmployeeStatus, Organization, OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.invitations import Invitation
from kalamna.ports.repositories import (
    BotConfigRepository,
    EmployeeRepository,
    InvitationRepository,
    OrganizationRepository,
    UnitOfWork,
)
from kalamna.ports.security import Clock, PasswordHasher

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Seeded:
    employee: Employee
    tokens: TokenPair


class Seeder:
    """Use inside ``async with container() as scope``; call ``commit`` once at the end."""

    def __init__(self, scope: AsyncContainer) -> None:
        self._scope = scope
        self._password_hash: str | None = None

    async def _hash(self) -> str:
        if self._password_hash is None:
            self._password_hash = await (await self._scope.get(PasswordHasher)).hash(PASSWORD)
        return self._password_hash

    async def _now(self) -> datetime:
        return (await self._scope.get(Clock)).now()

    async def organization(self, name: str) -> Organization:
        now = await self._now()
        organization = Organization(new_id(), name, OrganizationStatus.ACTIVE, now, now)
        await (await self._scope.get(OrganizationRepository)).add(organization)
        await (await self._scope.get(BotConfigRepository)).add(BotConfig(organization.id, updated_at=now))
        return organization

    async def employee(
        self, organization: Organization | None, email: str, role: Role, full_name: str = ""
    ) -> Seeded:
        """An active, verified employee who has just signed in."""
        now = await self._now()
        employee = Employee(
            id=new_id(),
            organization_id=organization.id if organization else None,
            email=email,
            full_name=full_name or email.split("@")[0].title(),
            role=role,
            status=EmployeeStatus.ACTIVE,
            password_hash=await self._hash(),
            created_at=now,
            updated_at=now,
            email_verified_at=now,
            last_login_at=now,
        )
        await (await self._scope.get(EmployeeRepository)).add(employee)
        tokens = await (await self._scope.get(SessionIssuer)).start(employee)
        return Seeded(employee, tokens)

    async def invited(self, inviter: Employee, email: str, role: Role, full_name: str) -> Seeded:
        """An employee who joined through an invitation of ``inviter`` (the invitation is accepted)."""
        assert inviter.organization_id is not None
        now = await self._now()
        await (await self._scope.get(InvitationRepository)).add(
            Invitation(
                new_id(),
                inviter.organization_id,
                email,
                role,
                inviter.id,
                now + timedelta(days=7),
                now,
                accepted_at=now,
            )
        )
        organization = await (await self._scope.get(OrganizationRepository)).get(inviter.organization_id)
        return await self.employee(organization, email, role, full_name)

    async def commit(self) -> None:
        await (await self._scope.get(UnitOfWork)).commit()
