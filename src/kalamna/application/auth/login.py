"""Sign in with email and password. Unknown email and wrong password look and take the same."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kalamna.application.auth.attempts import PasswordAttempts, login_bucket
from kalamna.application.auth.sessions import SessionIssuer, TokenPair
from kalamna.domain.errors import InvalidCredentials, InvalidInput
from kalamna.domain.identity import Employee, Organization, normalize_email
from kalamna.ports.repositories import EmployeeRepository, OrganizationRepository, UnitOfWork
from kalamna.ports.security import Clock, PasswordHasher

audit = logging.getLogger("kalamna.audit")


@dataclass(frozen=True, slots=True)
class SignedIn:
    tokens: TokenPair
    employee: Employee
    organization: Organization | None
    #: (limit, remaining, reset_after_s) of the failed-attempt budget
    budget: tuple[int, int, int] | None = None


class Login:
    def __init__(
        self,
        employees: EmployeeRepository,
        organizations: OrganizationRepository,
        hasher: PasswordHasher,
        sessions: SessionIssuer,
        uow: UnitOfWork,
        clock: Clock,
        attempts: PasswordAttempts,
    ) -> None:
        self._attempts = attempts
        self._employees = employees
        self._organizations = organizations
        self._hasher = hasher
        self._sessions = sessions
        self._uow = uow
        self._clock = clock

    async def __call__(self, email: str, password: str, *, client_ip: str) -> SignedIn:
        """Reserve a failed-attempt slot first (atomically), verify, and give it back on success."""
        bucket = login_bucket(email, client_ip)
        decision = await self._attempts.reserve(bucket)
        try:
            employee = await self._verify(email, password, client_ip)
        except InvalidCredentials as exc:
            raise self._attempts.failed(exc, decision) from None
        await self._attempts.succeeded(bucket)
        budget = (decision.limit, decision.remaining + 1, decision.reset_after_s)
        organization = (
            await self._organizations.get(employee.organization_id) if employee.organization_id else None
        )
        employee.ensure_may_sign_in(organization)
        now = self._clock.now()
        if self._hasher.needs_rehash(employee.password_hash):
            employee.change_password_hash(await self._hasher.hash(password), now)
        employee.record_login(now)
        await self._employees.save(employee)
        tokens = await self._sessions.start(employee)
        await self._uow.commit()
        audit.info("login succeeded", extra={"employee_id": str(employee.id), "client_ip": client_ip})
        return SignedIn(tokens=tokens, employee=employee, organization=organization, budget=budget)

    async def _verify(self, email: str, password: str, client_ip: str) -> Employee:
        try:
            address = normalize_email(email)
        except InvalidInput:
            address = None
        employee = await self._employees.get_by_email(address) if address else None
        if employee is None:
            await self._hasher.burn(password)
            audit.info("login failed", extra={"reason": "unknown_email", "client_ip": client_ip})
            raise InvalidCredentials()
        if not await self._hasher.verify(employee.password_hash, password):
            audit.info(
                "login failed",
                extra={"reason": "wrong_password", "employee_id": str(employee.id), "client_ip": client_ip},
            )
            raise InvalidCredentials()
        return employee
