"""Create the platform superuser (``kalamna create-superuser``)."""

from __future__ import annotations

import logging

from kalamna.application.auth.attempts import PasswordAttempts, login_bucket
from kalamna.domain.errors import EmailTaken, Forbidden, InvalidCredentials, InvalidInput
from kalamna.domain.identity import Employee, EmployeeStatus, Role, normalize_email
from kalamna.domain.ids import new_id
from kalamna.domain.passwords import validate_new_password
from kalamna.ports.repositories import EmployeeRepository, UnitOfWork
from kalamna.ports.security import Clock, PasswordHasher

audit = logging.getLogger("kalamna.audit")


class CreateSuperuser:
    def __init__(
        self, employees: EmployeeRepository, hasher: PasswordHasher, uow: UnitOfWork, clock: Clock
    ) -> None:
        self._employees = employees
        self._hasher = hasher
        self._uow = uow
        self._clock = clock

    async def __call__(
        self, email: str, password: str, full_name: str = "Platform administrator"
    ) -> Employee:
        address = normalize_email(email)
        validate_new_password(password)
        if await self._employees.get_by_email(address) is not None:
            raise EmailTaken(f"An account with the email {address} already exists.")
        now = self._clock.now()
        employee = Employee(
            id=new_id(),
            organization_id=None,
            email=address,
            full_name=full_name,
            role=Role.SUPERUSER,
            status=EmployeeStatus.ACTIVE,
            password_hash=await self._hasher.hash(password),
            created_at=now,
            updated_at=now,
            email_verified_at=now,
        )
        await self._employees.add(employee)
        await self._uow.commit()
        audit.info("superuser created", extra={"employee_id": str(employee.id)})
        return employee


class AuthenticateSuperuser:
    """Email and password of an active superuser (HTTP Basic for operator tools)."""

    def __init__(
        self, employees: EmployeeRepository, hasher: PasswordHasher, attempts: PasswordAttempts
    ) -> None:
        self._employees = employees
        self._hasher = hasher
        self._attempts = attempts

    async def __call__(self, email: str, password: str, *, client_ip: str) -> Employee:
        """Shares the sign-in budget per (email, client IP), reserved before verifying."""
        bucket = login_bucket(email, client_ip)
        decision = await self._attempts.reserve(bucket)
        try:
            employee = await self._verify(email, password)
        except InvalidCredentials as exc:
            raise self._attempts.failed(exc, decision) from None
        await self._attempts.succeeded(bucket)
        if not employee.is_superuser or employee.status is not EmployeeStatus.ACTIVE:
            raise Forbidden()
        return employee

    async def _verify(self, email: str, password: str) -> Employee:
        try:
            address = normalize_email(email)
        except InvalidInput:
            address = None
        employee = await self._employees.get_by_email(address) if address else None
        if employee is None:
            await self._hasher.burn(password)
            raise InvalidCredentials()
        if not await self._hasher.verify(employee.password_hash, password):
            raise InvalidCredentials()
        return employee
