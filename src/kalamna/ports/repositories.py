"""Persistence ports. Every tenant lookup takes the organization id together with the resource id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from kalamna.domain.api_keys import ApiCredential
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.identity import Employee, EmployeeStatus, Organization, OrganizationStatus, Role
from kalamna.domain.invitations import Invitation, InvitationStatus
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.tokens import OneTimeToken, RefreshSession, TokenPurpose


class UnitOfWork(Protocol):
    """One transaction per request or job: ``commit`` once at the end of a use case."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` once the next commit has succeeded (a job about rows written in this
        transaction must not start before they are visible); a rollback drops it. An action that
        finds a dependency down is logged and skipped: what it would start is swept up later."""
        ...


class OrganizationRepository(Protocol):
    async def add(self, organization: Organization) -> None: ...

    async def get(self, organization_id: UUID) -> Organization | None: ...

    async def save(self, organization: Organization) -> None: ...

    async def search(
        self, *, status: OrganizationStatus | None, query: str | None, page: PageRequest
    ) -> Page[Organization]:
        """All organizations (platform administration), newest first; ``query`` matches the name."""
        ...


class EmployeeRepository(Protocol):
    async def add(self, employee: Employee) -> None: ...

    async def get(self, employee_id: UUID) -> Employee | None:
        """Any employee by id; for the principal's own record and platform administration."""
        ...

    async def get_in_organization(self, organization_id: UUID, employee_id: UUID) -> Employee | None: ...

    async def get_by_email(self, email: str) -> Employee | None: ...

    async def save(self, employee: Employee) -> None: ...

    async def list_by_organization(self, organization_id: UUID) -> Sequence[Employee]: ...

    async def search(
        self,
        organization_id: UUID,
        *,
        role: Role | None,
        status: EmployeeStatus | None,
        page: PageRequest,
    ) -> Page[Employee]: ...

    async def count_active_owners(self, organization_id: UUID, *, lock: bool = False) -> int:
        """``lock`` serialises concurrent owner changes of one organization until commit."""
        ...

    async def delete(self, organization_id: UUID, employee_id: UUID) -> None: ...


class OneTimeTokenRepository(Protocol):
    async def add(self, token: OneTimeToken) -> None: ...

    async def find(self, token_hash: str, purpose: TokenPurpose) -> OneTimeToken | None: ...

    async def consume(self, token_id: UUID, now: datetime) -> bool:
        """Atomically mark a usable token used; False when another caller got there first."""
        ...

    async def revoke_for_employee(self, employee_id: UUID, purpose: TokenPurpose, now: datetime) -> None:
        """A newer token of the same purpose invalidates the older ones."""
        ...

    async def revoke_for_invitation(self, invitation_id: UUID, now: datetime) -> None: ...


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


class InvitationRepository(Protocol):
    async def add(self, invitation: Invitation) -> None: ...

    async def get(self, organization_id: UUID, invitation_id: UUID) -> Invitation | None: ...

    async def get_by_id(self, invitation_id: UUID) -> Invitation | None:
        """For token-based flows, where the token (not the caller) names the organization."""
        ...

    async def find_pending_by_email(
        self, organization_id: UUID, email: str, now: datetime
    ) -> Invitation | None: ...

    async def save(self, invitation: Invitation) -> None: ...

    async def search(
        self, organization_id: UUID, *, status: InvitationStatus | None, now: datetime, page: PageRequest
    ) -> Page[Invitation]: ...

    async def revoke_pending(self, organization_id: UUID, now: datetime) -> list[UUID]:
        """Revoke every pending invitation of an organization (suspension); returns their ids."""
        ...


class ApiCredentialRepository(Protocol):
    async def add(self, credential: ApiCredential) -> None: ...

    async def active_for(self, organization_id: UUID) -> ApiCredential | None: ...

    async def find_active_by_hash(self, key_hash: str) -> ApiCredential | None: ...

    async def revoke_all(self, organization_id: UUID, now: datetime) -> None: ...

    async def touch(self, credential_id: UUID, when: datetime) -> None: ...
