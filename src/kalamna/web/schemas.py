"""Response shapes shared by several controllers (the contract's object shapes)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from kalamna.application.auth.sessions import TokenPair
from kalamna.domain.identity import Employee, Organization


class OrganizationOut(msgspec.Struct):
    id: UUID
    name: str
    industry: str | None
    website: str | None
    description: str | None
    country: str | None
    timezone: str | None
    default_language: str | None
    status: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, org: Organization) -> OrganizationOut:
        return cls(
            id=org.id,
            name=org.name,
            industry=org.industry,
            website=org.website,
            description=org.description,
            country=org.country,
            timezone=org.timezone,
            default_language=org.default_language,
            status=org.status.value,
            created_at=org.created_at,
            updated_at=org.updated_at,
        )


class EmployeeOut(msgspec.Struct):
    id: UUID
    organization_id: UUID | None
    email: str
    full_name: str
    role: str
    status: str
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, employee: Employee) -> EmployeeOut:
        return cls(
            id=employee.id,
            organization_id=employee.organization_id,
            email=employee.email,
            full_name=employee.full_name,
            role=employee.role.value,
            status=employee.status.value,
            created_at=employee.created_at,
            last_login_at=employee.last_login_at,
        )


class TokenPairOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int

    @classmethod
    def of(cls, pair: TokenPair) -> TokenPairOut:
        return cls(pair.access_token, pair.refresh_token, pair.token_type, pair.expires_in)


class MessageOut(msgspec.Struct):
    message: str
