"""Sign-in sessions: a short-lived access JWT plus a rotating, opaque refresh token."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from kalamna.domain.errors import DomainError, NotAuthenticated, TokenRevoked
from kalamna.domain.identity import Employee
from kalamna.domain.ids import new_id
from kalamna.domain.tokens import RefreshSession
from kalamna.ports.repositories import (
    EmployeeRepository,
    OrganizationRepository,
    RefreshSessionRepository,
    UnitOfWork,
)
from kalamna.ports.security import AccessTokenIssuer, Clock, RevocationStore, SecretTokens

audit = logging.getLogger("kalamna.audit")


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    refresh_ttl: timedelta = timedelta(days=7)


class SessionIssuer:
    """Creates a new session family (sign-in) or the next member of one (refresh)."""

    def __init__(
        self,
        access_tokens: AccessTokenIssuer,
        secrets: SecretTokens,
        refresh_sessions: RefreshSessionRepository,
        clock: Clock,
        policy: SessionPolicy,
    ) -> None:
        self._access = access_tokens
        self._secrets = secrets
        self._sessions = refresh_sessions
        self._clock = clock
        self._policy = policy

    def _new_refresh(self, employee: Employee, family_id: uuid.UUID) -> tuple[str, RefreshSession]:
        raw = self._secrets.new()
        now = self._clock.now()
        session = RefreshSession(
            id=new_id(),
            family_id=family_id,
            employee_id=employee.id,
            token_hash=self._secrets.digest(raw),
            expires_at=now + self._policy.refresh_ttl,
            created_at=now,
        )
        return raw, session

    def _pair(self, employee: Employee, refresh_raw: str) -> TokenPair:
        access = self._access.issue(employee.id, employee.organization_id, employee.role.value)
        return TokenPair(
            access_token=access.token, refresh_token=refresh_raw, expires_in=self._access.lifetime_s
        )

    async def start(self, employee: Employee) -> TokenPair:
        raw, session = self._new_refresh(employee, new_id())
        await self._sessions.add(session)
        return self._pair(employee, raw)

    async def rotate(self, employee: Employee, current: RefreshSession) -> TokenPair | None:
        raw, successor = self._new_refresh(employee, current.family_id)
        if not await self._sessions.rotate(current.id, successor, self._clock.now()):
            return None
        return self._pair(employee, raw)


class RefreshTokens:
    """``POST /auth/refresh``: rotate on every use; reuse of a rotated token revokes the family."""

    def __init__(
        self,
        secrets: SecretTokens,
        sessions: RefreshSessionRepository,
        employees: EmployeeRepository,
        organizations: OrganizationRepository,
        issuer: SessionIssuer,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._secrets = secrets
        self._sessions = sessions
        self._employees = employees
        self._organizations = organizations
        self._issuer = issuer
        self._uow = uow
        self._clock = clock

    async def __call__(self, refresh_token: str) -> TokenPair:
        now = self._clock.now()
        session = await self._sessions.find(self._secrets.digest(refresh_token))
        if session is None:
            raise NotAuthenticated("The refresh token is not valid.")
        if session.was_rotated:
            await self._sessions.revoke_family(session.family_id, now)
            await self._uow.commit()
            audit.warning(
                "refresh token reuse: family revoked",
                extra={"employee_id": str(session.employee_id), "family_id": str(session.family_id)},
            )
            raise TokenRevoked("This refresh token was already used; every session it began is now closed.")
        if not session.is_active(now):
            raise TokenRevoked("The refresh token is no longer valid.")
        employee = await self._employees.get(session.employee_id)
        if employee is None:
            raise TokenRevoked("The refresh token is no longer valid.")
        organization = (
            await self._organizations.get(employee.organization_id) if employee.organization_id else None
        )
        try:
            employee.ensure_may_sign_in(organization)
        except DomainError:
            await self._sessions.revoke_family(session.family_id, now)
            await self._uow.commit()
            raise
        pair = await self._issuer.rotate(employee, session)
        if pair is None:  # a concurrent refresh won the race: treat as reuse
            await self._sessions.revoke_family(session.family_id, now)
            await self._uow.commit()
            raise TokenRevoked("This refresh token was already used.")
        await self._uow.commit()
        return pair


class Logout:
    """Revoke the presented refresh token and the presenting access token."""

    def __init__(
        self,
        secrets: SecretTokens,
        sessions: RefreshSessionRepository,
        revocations: RevocationStore,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._secrets = secrets
        self._sessions = sessions
        self._revocations = revocations
        self._uow = uow
        self._clock = clock

    async def __call__(
        self, *, employee_id: uuid.UUID, jti: str, access_expires_at: float, refresh_token: str
    ) -> None:
        session = await self._sessions.find(self._secrets.digest(refresh_token))
        if session is not None and session.employee_id == employee_id:
            await self._sessions.revoke(session.id, self._clock.now())
            await self._uow.commit()
        await self._revocations.revoke_access_token(jti, access_expires_at)
        audit.info("logout", extra={"employee_id": str(employee_id)})


class RevokeEverySession:
    """Cut every session of an employee at once (password change/reset, disable, removal)."""

    def __init__(
        self, sessions: RefreshSessionRepository, revocations: RevocationStore, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._revocations = revocations
        self._clock = clock

    async def __call__(self, employee_id: uuid.UUID) -> None:
        now = self._clock.now()
        await self._sessions.revoke_all_for_employee(employee_id, now)
        await self._revocations.revoke_subject_before(employee_id, now.timestamp())
