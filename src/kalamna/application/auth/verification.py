"""Confirm an email address (activating the owner and its organization) and re-send the link."""

from __future__ import annotations

import logging

from kalamna.application.auth.registration import VerificationMailer
from kalamna.domain.errors import InvalidToken
from kalamna.domain.identity import (
    Employee,
    EmployeeStatus,
    Organization,
    OrganizationStatus,
    normalize_email,
)
from kalamna.domain.tokens import TokenPurpose
from kalamna.ports.repositories import (
    EmployeeRepository,
    OneTimeTokenRepository,
    OrganizationRepository,
    UnitOfWork,
)
from kalamna.ports.security import Clock, SecretTokens

audit = logging.getLogger("kalamna.audit")


class VerifyEmail:
    def __init__(
        self,
        tokens: OneTimeTokenRepository,
        secrets: SecretTokens,
        employees: EmployeeRepository,
        organizations: OrganizationRepository,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._tokens = tokens
        self._secrets = secrets
        self._employees = employees
        self._organizations = organizations
        self._uow = uow
        self._clock = clock

    async def __call__(self, raw_token: str) -> tuple[Organization, Employee]:
        now = self._clock.now()
        token = await self._tokens.find(self._secrets.digest(raw_token), TokenPurpose.VERIFY_EMAIL)
        if token is None or token.employee_id is None:
            raise InvalidToken()
        token.ensure_usable(TokenPurpose.VERIFY_EMAIL, now)
        employee = await self._employees.get(token.employee_id)
        if employee is None or employee.organization_id is None:
            raise InvalidToken()
        organization = await self._organizations.get(employee.organization_id)
        if organization is None:
            raise InvalidToken()
        if not await self._tokens.consume(token.id, now):
            raise InvalidToken()
        employee.verify_email(now)
        if organization.status is OrganizationStatus.PENDING:
            organization.activate(now)
            await self._organizations.save(organization)
        await self._employees.save(employee)
        await self._uow.commit()
        audit.info("email verified", extra={"employee_id": str(employee.id)})
        return organization, employee


class ResendVerification:
    """Answers the same whether or not the email exists; only a pending account gets mail."""

    def __init__(
        self,
        employees: EmployeeRepository,
        organizations: OrganizationRepository,
        verification: VerificationMailer,
        uow: UnitOfWork,
    ) -> None:
        self._employees = employees
        self._organizations = organizations
        self._verification = verification
        self._uow = uow

    async def __call__(self, email: str) -> None:
        employee = await self._employees.get_by_email(normalize_email(email))
        if (
            employee is None
            or employee.status is not EmployeeStatus.PENDING
            or employee.organization_id is None
        ):
            return
        organization = await self._organizations.get(employee.organization_id)
        if organization is None:
            return
        await self._verification.issue(employee, organization)
        await self._uow.commit()
