"""Who is calling: a verified access token that has not been revoked."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from kalamna.domain.errors import TokenRevoked
from kalamna.domain.identity import Role
from kalamna.ports.security import AccessClaims, AccessTokenIssuer, RevocationStore


@dataclass(frozen=True, slots=True)
class Principal:
    employee_id: UUID
    organization_id: UUID | None
    role: Role
    jti: str
    expires_at: float

    @property
    def is_superuser(self) -> bool:
        return self.role is Role.SUPERUSER

    @classmethod
    def from_claims(cls, claims: AccessClaims) -> Principal:
        return cls(
            employee_id=claims.subject,
            organization_id=claims.organization_id,
            role=Role(claims.role),
            jti=claims.jti,
            expires_at=claims.expires_at,
        )


class AuthenticateAccessToken:
    def __init__(self, issuer: AccessTokenIssuer, revocations: RevocationStore) -> None:
        self._issuer = issuer
        self._revocations = revocations

    async def __call__(self, token: str) -> Principal:
        claims = self._issuer.verify(token)
        if await self._revocations.is_revoked(claims):
            raise TokenRevoked()
        return Principal.from_claims(claims)
