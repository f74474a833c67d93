"""In-memory revocation store and a settable clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from kalamna.ports.security import AccessClaims


@dataclass
class MemoryRevocationStore:
    jtis: set[str] = field(default_factory=set)
    subjects: dict[UUID, float] = field(default_factory=dict)
    organizations: dict[UUID, float] = field(default_factory=dict)

    async def revoke_access_token(self, jti: str, expires_at: float) -> None:
        self.jtis.add(jti)

    async def revoke_subject_before(self, subject: UUID, moment: float) -> None:
        self.subjects[subject] = moment

    async def revoke_organization_before(self, organization_id: UUID, moment: float) -> None:
        self.organizations[organization_id] = moment

    async def is_revoked(self, claims: AccessClaims) -> bool:
        if claims.jti in self.jtis:
            return True
        if claims.issued_at < self.subjects.get(claims.subject, float("-inf")):
            return True
        org = claims.organization_id
        return org is not None and claims.issued_at < self.organizations.get(org, float("-inf"))


@dataclass
class FixedClock:
    current: datetime = field(default_factory=lambda: datetime(2026, 11, 22, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
