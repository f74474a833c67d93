"""One-time tokens (email verification, password reset, invitations) and refresh-token sessions.

The raw token value never lives here: only its SHA-256 digest, computed by the security adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from kalamna.domain.errors import InvalidToken


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"
    INVITATION = "invitation"


@dataclass(slots=True)
class OneTimeToken:
    id: UUID
    purpose: TokenPurpose
    token_hash: str
    expires_at: datetime
    created_at: datetime
    employee_id: UUID | None = None
    invitation_id: UUID | None = None
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    def ensure_usable(self, purpose: TokenPurpose, now: datetime) -> None:
        """Every failure reads the same to the caller: a token is either good or it is not."""
        if self.purpose is not purpose or self.used_at or self.revoked_at or self.expires_at <= now:
            raise InvalidToken()


@dataclass(slots=True)
class RefreshSession:
    """One refresh token of a rotation family. Rotation revokes it and points to its successor;
    presenting a rotated token again means it leaked, so the whole family is revoked."""

    id: UUID
    family_id: UUID
    employee_id: UUID
    token_hash: str
    expires_at: datetime
    created_at: datetime
    revoked_at: datetime | None = None
    replaced_by: UUID | None = None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    @property
    def was_rotated(self) -> bool:
        return self.replaced_by is not None
