"""In-memory repositories for unit tests. They copy on the way in and out, like a database would, and
pass the same contract tests as the PostgreSQL ones (``tests/integration/contracts``)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from kalamna.adapters.memory.store import Transactional
from kalamna.domain.api_keys import ApiCredential
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.errors import EmailTaken
from kalamna.domain.identity import Employee, EmployeeStatus, Organization, OrganizationStatus, Role
from kalamna.domain.invitations import Invitation, InvitationStatus
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.tokens import OneTimeToken, RefreshSession, TokenPurpose


@dataclass
class MemoryStore(Transactional):
    organizations: dict[UUID, Organization] = field(default_factory=dict)
    employees: dict[UUID, Employee] = field(default_factory=dict)
    tokens: dict[UUID, OneTimeToken] = field(default_factory=dict)
    sessions: dict[UUID, RefreshSession] = field(default_factory=dict)
    bot_configs: dict[UUID, BotConfig] = field(default_factory=dict)
    invitations: dict[UUID, Invitation] = field(default_factory=dict)
    credentials: dict[UUID, ApiCredential] = field(default_factory=dict)


def _existing(table: dict[UUID, Any], key: UUID) -> None:
    """``save`` updates a stored record; like an UPDATE of a missing row, it cannot create one."""
    if key not in table:
        raise LookupError(key)


class MemoryOrganizationRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def add(self, organization: Organization) -> None:
        self._store.organizations[organization.id] = copy.deepcopy(organization)

    async def get(self, organization_id: UUID) -> Organization | None:
        found = self._store.organizations.get(organization_id)
        return copy.deepcopy(found) if found else None

    async def save(self, organization: Organization) -> None:
        _existing(self._store.organizations, organization.id)
        self._store.organizations[organization.id] = copy.deepcopy(organization)

    async def search(
        self, *, status: OrganizationStatus | None, query: str | None, page: PageRequest
    ) -> Page[Organization]:
        found = [
            o
            for o in sorted(
                self._store.organizations.values(), key=lambda o: (o.created_at, o.id), reverse=True
            )
            if (status is None or o.status is status) and (not query or query.lower() in o.name.lower())
        ]
        items = [copy.deepcopy(o) for o in found[page.offset : page.offset + page.limit]]
        return Page(items, len(found), page.limit, page.offset)


class MemoryEmployeeRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def add(self, employee: Employee) -> None:
        if any(e.email == employee.email for e in self._store.employees.values()):
            self._store.rollback()  # as the database session does on the unique violation
            raise EmailTaken()
        self._store.employees[employee.id] = copy.deepcopy(employee)

    async def get(self, employee_id: UUID) -> Employee | None:
        found = self._store.employees.get(employee_id)
        return copy.deepcopy(found) if found else None

    async def get_in_organization(self, organization_id: UUID, employee_id: UUID) -> Employee | None:
        found = self._store.employees.get(employee_id)
        return copy.deepcopy(found) if found and found.organization_id == organization_id else None

    async def get_by_email(self, email: str) -> Employee | None:
        found = next((e for e in self._store.employees.values() if e.email == email), None)
        return copy.deepcopy(found) if found else None

    async def save(self, employee: Employee) -> None:
        _existing(self._store.employees, employee.id)
        self._store.employees[employee.id] = copy.deepcopy(employee)

    async def search(
        self,
        organization_id: UUID,
        *,
        role: Role | None,
        status: EmployeeStatus | None,
        page: PageRequest,
    ) -> Page[Employee]:
        found = [
            e
            for e in await self.list_by_organization(organization_id)
            if (role is None or e.role is role) and (status is None or e.status is status)
        ]
        return Page(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)

    async def count_active_owners(self, organization_id: UUID, *, lock: bool = False) -> int:
        return sum(
            1
            for e in self._store.employees.values()
            if e.organization_id == organization_id
            and e.role is Role.OWNER
            and e.status is EmployeeStatus.ACTIVE
        )

    async def delete(self, organization_id: UUID, employee_id: UUID) -> None:
        found = self._store.employees.get(employee_id)
        if found is not None and found.organization_id == organization_id:
            del self._store.employees[employee_id]
            # The foreign keys: sessions and one-time tokens cascade, invitations forget their sender.
            for session_id in [s.id for s in self._store.sessions.values() if s.employee_id == employee_id]:
                del self._store.sessions[session_id]
            for token_id in [t.id for t in self._store.tokens.values() if t.employee_id == employee_id]:
                del self._store.tokens[token_id]
            for invitation in self._store.invitations.values():
                if invitation.invited_by == employee_id:
                    invitation.invited_by = None

    async def list_by_organization(self, organization_id: UUID) -> Sequence[Employee]:
        return [
            copy.deepcopy(e)
            for e in sorted(self._store.employees.values(), key=lambda e: (e.created_at, e.id))
            if e.organization_id == organization_id
        ]


class MemoryOneTimeTokenRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def add(self, token: OneTimeToken) -> None:
        self._store.tokens[token.id] = replace(token)

    async def find(self, token_hash: str, purpose: TokenPurpose) -> OneTimeToken | None:
        found = next(
            (t for t in self._store.tokens.values() if t.token_hash == token_hash and t.purpose is purpose),
            None,
        )
        return replace(found) if found else None

    async def consume(self, token_id: UUID, now: datetime) -> bool:
        token = self._store.tokens.get(token_id)
        if token is None or token.used_at or token.revoked_at or token.expires_at <= now:
            return False
        token.used_at = now
        return True

    async def revoke_for_employee(self, employee_id: UUID, purpose: TokenPurpose, now: datetime) -> None:
        for token in self._store.tokens.values():
            if token.employee_id == employee_id and token.purpose is purpose and not token.used_at:
                token.revoked_at = token.revoked_at or now

    async def revoke_for_invitation(self, invitation_id: UUID, now: datetime) -> None:
        for token in self._store.tokens.values():
            if token.invitation_id == invitation_id and not token.used_at:
                token.revoked_at = token.revoked_at or now


class MemoryRefreshSessionRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def add(self, session: RefreshSession) -> None:
        self._store.sessions[session.id] = replace(session)

    async def find(self, token_hash: str) -> RefreshSession | None:
        found = next((s for s in self._store.sessions.values() if s.token_hash == token_hash), None)
        return replace(found) if found else None

    async def rotate(self, session_id: UUID, successor: RefreshSession, now: datetime) -> bool:
        current = self._store.sessions.get(session_id)
        if current is None or not current.is_active(now):
            return False
        current.revoked_at = now
        current.replaced_by = successor.id
        await self.add(successor)
        return True

    async def revoke(self, session_id: UUID, now: datetime) -> None:
        session = self._store.sessions.get(session_id)
        if session is not None and session.revoked_at is None:
            session.revoked_at = now

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        for session in self._store.sessions.values():
            if session.family_id == family_id and session.revoked_at is None:
                session.revoked_at = now

    async def revoke_all_for_employee(self, employee_id: UUID, now: datetime) -> None:
        for session in self._store.sessions.values():
            if session.employee_id == employee_id and session.revoked_at is None:
                session.revoked_at = now


class MemoryBotConfigRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def add(self, config: BotConfig) -> None:
        self._store.bot_configs[config.organization_id] = copy.deepcopy(config)

    async def get(self, organization_id: UUID) -> BotConfig | None:
        found = self._store.bot_configs.get(organization_id)
        return copy.deepcopy(found) if found else None

    async def save(self, config: BotConfig) -> None:
        _existing(self._store.bot_configs, config.organization_id)
        self._store.bot_configs[config.organization_id] = copy.deepcopy(config)


class MemoryInvitationRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def add(self, invitation: Invitation) -> None:
        self._store.invitations[invitation.id] = replace(invitation)

    async def get(self, organization_id: UUID, invitation_id: UUID) -> Invitation | None:
        found = self._store.invitations.get(invitation_id)
        return replace(found) if found and found.organization_id == organization_id else None

    async def get_by_id(self, invitation_id: UUID) -> Invitation | None:
        found = self._store.invitations.get(invitation_id)
        return replace(found) if found else None

    async def find_pending_by_email(
        self, organization_id: UUID, email: str, now: datetime
    ) -> Invitation | None:
        for invitation in sorted(self._store.invitations.values(), key=lambda i: i.created_at, reverse=True):
            if (
                invitation.organization_id == organization_id
                and invitation.email == email
                and invitation.status(now) is InvitationStatus.PENDING
            ):
                return replace(invitation)
        return None

    async def save(self, invitation: Invitation) -> None:
        _existing(self._store.invitations, invitation.id)
        self._store.invitations[invitation.id] = replace(invitation)

    async def search(
        self, organization_id: UUID, *, status: InvitationStatus | None, now: datetime, page: PageRequest
    ) -> Page[Invitation]:
        found = [
            replace(i)
            for i in sorted(
                self._store.invitations.values(), key=lambda i: (i.created_at, i.id), reverse=True
            )
            if i.organization_id == organization_id and (status is None or i.status(now) is status)
        ]
        return Page(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)

    async def revoke_pending(self, organization_id: UUID, now: datetime) -> list[UUID]:
        revoked = []
        for invitation in self._store.invitations.values():
            if (
                invitation.organization_id == organization_id
                and invitation.status(now) is InvitationStatus.PENDING
            ):
                invitation.revoke(now)
                revoked.append(invitation.id)
        return revoked


class MemoryApiCredentialRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def add(self, credential: ApiCredential) -> None:
        self._store.credentials[credential.id] = replace(credential)

    async def active_for(self, organization_id: UUID) -> ApiCredential | None:
        found = [
            c for c in self._store.credentials.values() if c.organization_id == organization_id and c.active
        ]
        return replace(max(found, key=lambda c: c.created_at)) if found else None

    async def find_active_by_hash(self, key_hash: str) -> ApiCredential | None:
        found = next(
            (c for c in self._store.credentials.values() if c.key_hash == key_hash and c.active), None
        )
        return replace(found) if found else None

    async def revoke_all(self, organization_id: UUID, now: datetime) -> None:
        for credential in self._store.credentials.values():
            if credential.organization_id == organization_id and credential.active:
                credential.revoked_at = now

    async def touch(self, credential_id: UUID, when: datetime) -> None:
        if credential_id in self._store.credentials:
            self._store.credentials[credential_id].last_used_at = when
