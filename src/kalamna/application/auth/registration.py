"""Register an organization with its owner; verify the owner's email to activate both."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from kalamna.application.auth.emails import Links, verification_email
from kalamna.application.auth.one_time import replace_employee_token
from kalamna.application.mail import QueueMail
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.errors import EmailTaken, InvalidInput
from kalamna.domain.identity import (
    Employee,
    EmployeeStatus,
    Organization,
    OrganizationStatus,
    Role,
    normalize_email,
)
from kalamna.domain.ids import new_id
from kalamna.domain.organization_profile import check_profile
from kalamna.domain.passwords import validate_new_password
from kalamna.domain.tokens import TokenPurpose
from kalamna.ports.repositories import (
    BotConfigRepository,
    EmployeeRepository,
    OneTimeTokenRepository,
    OrganizationRepository,
    UnitOfWork,
)
from kalamna.ports.security import Clock, PasswordHasher, SecretTokens

audit = logging.getLogger("kalamna.audit")


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    ttl: timedelta = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class Registration:
    organization_name: str
    full_name: str
    email: str
    password: str
    industry: str | None = None
    website: str | None = None
    country: str | None = None
    timezone: str | None = None


class VerificationMailer:
    """Issues a fresh verification token (older ones die) and queues its email."""

    def __init__(
        self,
        tokens: OneTimeTokenRepository,
        secrets: SecretTokens,
        mail: QueueMail,
        links: Links,
        clock: Clock,
        policy: VerificationPolicy,
    ) -> None:
        self._tokens = tokens
        self._secrets = secrets
        self._mail = mail
        self._links = links
        self._clock = clock
        self._policy = policy

    async def issue(self, employee: Employee, organization: Organization) -> None:
        now = self._clock.now()
        raw = await replace_employee_token(
            self._tokens,
            self._secrets,
            purpose=TokenPurpose.VERIFY_EMAIL,
            now=now,
            expires_at=now + self._policy.ttl,
            employee_id=employee.id,
        )
        message = verification_email(
            employee.email,
            employee.full_name,
            self._links.verify_email(raw),
            int(self._policy.ttl.total_seconds() // 3600),
        )
        await self._mail(message, kind="verify_email")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


class RegisterOrganization:
    def __init__(
        self,
        organizations: OrganizationRepository,
        employees: EmployeeRepository,
        bot_configs: BotConfigRepository,
        hasher: PasswordHasher,
        verification: VerificationMailer,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._organizations = organizations
        self._employees = employees
        self._bot_configs = bot_configs
        self._hasher = hasher
        self._verification = verification
        self._uow = uow
        self._clock = clock

    async def __call__(self, data: Registration) -> tuple[Organization, Employee]:
        email = normalize_email(data.email)
        validate_new_password(data.password)
        name = data.organization_name.strip()
        full_name = data.full_name.strip()
        if not name or not full_name:
            raise InvalidInput("Organization name and full name are required.")
        check_profile(website=_clean(data.website), timezone=_clean(data.timezone), default_language=None)
        if await self._employees.get_by_email(email) is not None:
            raise EmailTaken()
        now = self._clock.now()
        organization = Organization(
            id=new_id(),
            name=name,
            status=OrganizationStatus.PENDING,
            created_at=now,
            updated_at=now,
            industry=_clean(data.industry),
            website=_clean(data.website),
            country=_clean(data.country),
            timezone=_clean(data.timezone),
        )
        employee = Employee(
            id=new_id(),
            organization_id=organization.id,
            email=email,
            full_name=full_name,
            role=Role.OWNER,
            status=EmployeeStatus.PENDING,
            password_hash=await self._hasher.hash(data.password),
            created_at=now,
            updated_at=now,
        )
        await self._organizations.add(organization)
        await self._employees.add(employee)
        await self._bot_configs.add(BotConfig(organization_id=organization.id, updated_at=now))
        await self._verification.issue(employee, organization)
        await self._uow.commit()
        audit.info(
            "organization registered",
            extra={"organization_id": str(organization.id), "employee_id": str(employee.id)},
        )
        return organization, employee
