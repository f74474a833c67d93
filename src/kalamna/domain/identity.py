"""Organizations, employees and their lifecycles.

Organization: ``pending → active → suspended`` (and back to ``active``).
Employee: ``pending → active → disabled`` (and back to ``active``); the platform ``superuser`` belongs
to no organization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from kalamna.domain.errors import (
    AccountDisabled,
    Conflict,
    EmailNotVerified,
    InvalidInput,
    OrganizationSuspended,
)
from kalamna.domain.organization_profile import ProfileUpdate, check_profile, resolved


class OrganizationStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Role(StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    SUPERUSER = "superuser"


class EmployeeStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively; surrounding blanks are dropped."""
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput("Enter a valid email address.", extra={"fields": [{"key": "email"}]})
    return value


@dataclass(slots=True)
class Organization:
    id: UUID
    name: str
    status: OrganizationStatus
    created_at: datetime
    updated_at: datetime
    industry: str | None = None
    website: str | None = None
    description: str | None = None
    country: str | None = None
    timezone: str | None = None
    default_language: str | None = None

    def activate(self, now: datetime) -> None:
        if self.status is OrganizationStatus.SUSPENDED:
            raise Conflict("A suspended organization is reactivated by a platform administrator.")
        self.status = OrganizationStatus.ACTIVE
        self.updated_at = now

    def suspend(self, now: datetime) -> None:
        self.status = OrganizationStatus.SUSPENDED
        self.updated_at = now

    def reactivate(self, now: datetime) -> None:
        self.status = OrganizationStatus.ACTIVE
        self.updated_at = now

    def change_profile(self, update: ProfileUpdate) -> None:
        """Apply ``update`` after validating the resulting profile (all or nothing)."""
        name = resolved(update.name, self.name)
        if not name:
            raise InvalidInput("The organization needs a name.", extra={"fields": [{"key": "name"}]})
        website = resolved(update.website, self.website)
        timezone = resolved(update.timezone, self.timezone)
        default_language = resolved(update.default_language, self.default_language)
        check_profile(website=website, timezone=timezone, default_language=default_language)
        self.name = name
        self.industry = resolved(update.industry, self.industry)
        self.website = website
        self.description = resolved(update.description, self.description)
        self.country = resolved(update.country, self.country)
        self.timezone = timezone
        self.default_language = default_language


@dataclass(slots=True)
class Employee:
    id: UUID
    organization_id: UUID | None
    email: str
    full_name: str
    role: Role
    status: EmployeeStatus
    password_hash: str
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None = None
    email_verified_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_superuser(self) -> bool:
        return self.role is Role.SUPERUSER

    def verify_email(self, now: datetime) -> None:
        if self.status is EmployeeStatus.DISABLED:
            raise AccountDisabled()
        self.email_verified_at = self.email_verified_at or now
        self.status = EmployeeStatus.ACTIVE
        self.updated_at = now

    def ensure_may_sign_in(self, organization: Organization | None) -> None:
        """The order matters: the most specific, actionable reason first."""
        if self.status is EmployeeStatus.DISABLED:
            raise AccountDisabled()
        if self.status is EmployeeStatus.PENDING:
            raise EmailNotVerified()
        if self.is_superuser:
            return
        if organization is None:
            raise AccountDisabled()
        if organization.status is OrganizationStatus.SUSPENDED:
            raise OrganizationSuspended()
        if organization.status is OrganizationStatus.PENDING:
            raise EmailNotVerified()

    def record_login(self, now: datetime) -> None:
        self.last_login_at = now

    def change_password_hash(self, password_hash: str, now: datetime) -> None:
        self.password_hash = password_hash
        self.updated_at = now
