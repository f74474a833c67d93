"""Forgot, reset and change a password. Every change cuts every other session at once."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from kalamna.application.auth.attempts import PasswordAttempts, password_change_bucket
from kalamna.application.auth.emails import Links, password_reset_email
from kalamna.application.auth.one_time import replace_employee_token
from kalamna.application.auth.sessions import RevokeEverySession, SessionIssuer, TokenPair
from kalamna.application.mail import QueueMail
from kalamna.domain.errors import InvalidCredentials, InvalidToken
from kalamna.domain.identity import EmployeeStatus, normalize_email
from kalamna.domain.passwords import validate_new_password
from kalamna.domain.tokens import TokenPurpose
from kalamna.ports.repositories import (
    EmployeeRepository,
    OneTimeTokenRepository,
    OrganizationRepository,
    UnitOfWork,
)
from kalamna.ports.security import Clock, PasswordHasher, SecretTokens

audit = logging.getLogger("kalamna.audit")


@dataclass(frozen=True, slots=True)
class ResetPolicy:
    ttl: timedelta = timedelta(hours=1)


class ForgotPassword:
    """Queues a reset email for an existing, non-disabled account; silent otherwise."""

    def __init__(
        self,
        employees: EmployeeRepository,
        tokens: OneTimeTokenRepository,
        secrets: SecretTokens,
        mail: QueueMail,
        links: Links,
        uow: UnitOfWork,
        clock: Clock,
        policy: ResetPolicy,
    ) -> None:
        self._employees = employees
        self._tokens = tokens
        self._secrets = secrets
        self._mail = mail
        self._links = links
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def __call__(self, email: str) -> None:
        employee = await self._employees.get_by_email(normalize_email(email))
        if employee is None or employee.status is EmployeeStatus.DISABLED:
            return
        now = self._clock.now()
        raw = await replace_employee_token(
            self._tokens,
            self._secrets,
            purpose=TokenPurpose.RESET_PASSWORD,
            now=now,
            expires_at=now + self._policy.ttl,
            employee_id=employee.id,
        )
        message = password_reset_email(
            employee.email,
            employee.full_name,
            self._links.reset_password(raw),
            int(self._policy.ttl.total_seconds() // 60),
        )
        await self._mail(message, kind="reset_password")
        await self._uow.commit()
        audit.info("password reset requested", extra={"employee_id": str(employee.id)})


class CheckResetToken:
    def __init__(self, tokens: OneTimeTokenRepository, secrets: SecretTokens, clock: Clock) -> None:
        self._tokens = tokens
        self._secrets = secrets
        self._clock = clock

    async def __call__(self, raw_token: str) -> datetime:
        token = await self._tokens.find(self._secrets.digest(raw_token), TokenPurpose.RESET_PASSWORD)
        if token is None:
            raise InvalidToken()
        token.ensure_usable(TokenPurpose.RESET_PASSWORD, self._clock.now())
        return token.expires_at


class ResetPassword:
    def __init__(
        self,
        tokens: OneTimeTokenRepository,
        secrets: SecretTokens,
        employees: EmployeeRepository,
        hasher: PasswordHasher,
        revoke_sessions: RevokeEverySession,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._tokens = tokens
        self._secrets = secrets
        self._employees = employees
        self._hasher = hasher
        self._revoke_sessions = revoke_sessions
        self._uow = uow
        self._clock = clock

    async def __call__(self, raw_token: str, new_password: str) -> None:
        validate_new_password(new_password, field="new_password")
        now = self._clock.now()
        token = await self._tokens.find(self._secrets.digest(raw_token), TokenPurpose.RESET_PASSWORD)
        if token is None or token.employee_id is None:
            raise InvalidToken()
        token.ensure_usable(TokenPurpose.RESET_PASSWORD, now)
        employee = await self._employees.get(token.employee_id)
        if employee is None or employee.status is EmployeeStatus.DISABLED:
            raise InvalidToken()
        password_hash = await self._hasher.hash(new_password)
        if not await self._tokens.consume(token.id, now):
            raise InvalidToken()
        employee.change_password_hash(password_hash, now)
        await self._employees.save(employee)
        await self._revoke_sessions(employee.id)
        await self._uow.commit()
        audit.info("password reset", extra={"employee_id": str(employee.id)})


class ChangePassword:
    """Old sessions, this one included, die; the caller gets a fresh pair to carry on."""

    def __init__(
        self,
        employees: EmployeeRepository,
        organizations: OrganizationRepository,
        hasher: PasswordHasher,
        revoke_sessions: RevokeEverySession,
        sessions: SessionIssuer,
        uow: UnitOfWork,
        clock: Clock,
        attempts: PasswordAttempts,
    ) -> None:
        self._attempts = attempts
        self._employees = employees
        self._organizations = organizations
        self._hasher = hasher
        self._revoke_sessions = revoke_sessions
        self._sessions = sessions
        self._uow = uow
        self._clock = clock

    async def __call__(self, employee_id: uuid.UUID, current_password: str, new_password: str) -> TokenPair:
        employee = await self._employees.get(employee_id)
        if employee is None:
            raise InvalidCredentials()
        organization = (
            await self._organizations.get(employee.organization_id) if employee.organization_id else None
        )
        employee.ensure_may_sign_in(organization)  # every token-issuing path checks both statuses
        bucket = password_change_bucket(employee.id)
        decision = await self._attempts.reserve(bucket)  # a stolen session cannot guess on and on
        if not await self._hasher.verify(employee.password_hash, current_password):
            audit.info("password change refused", extra={"employee_id": str(employee.id)})
            raise self._attempts.failed(InvalidCredentials("The current password is incorrect."), decision)
        await self._attempts.succeeded(bucket)
        validate_new_password(new_password, field="new_password")
        employee.change_password_hash(await self._hasher.hash(new_password), self._clock.now())
        await self._employees.save(employee)
        await self._revoke_sessions(employee.id)
        tokens = await self._sessions.start(employee)
        await self._uow.commit()
        audit.info("password changed", extra={"employee_id": str(employee.id)})
        return tokens
