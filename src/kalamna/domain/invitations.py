"""Invitations to join an organization. The token is a one-time token of purpose ``invitation``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from kalamna.domain.errors import InvalidToken
from kalamna.domain.identity import Role


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(slots=True)
class Invitation:
    id: UUID
    organization_id: UUID
    email: str
    role: Role
    invited_by: UUID | None
    expires_at: datetime
    created_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None

    def status(self, now: datetime) -> InvitationStatus:
        if self.accepted_at:
            return InvitationStatus.ACCEPTED
        if self.revoked_at:
            return InvitationStatus.REVOKED
        if self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    def ensure_pending(self, now: datetime) -> None:
        if self.status(now) is not InvitationStatus.PENDING:
            raise InvalidToken()

    def accept(self, now: datetime) -> None:
        self.ensure_pending(now)
        self.accepted_at = now

    def revoke(self, now: datetime) -> None:
        if self.status(now) is InvitationStatus.PENDING:
            self.revoked_at = now

    def renew(self, expires_at: datetime) -> None:
        """Resend: a new token and a new expiry; only pending or expired invitations."""
        if self.accepted_at or self.revoked_at:
            raise InvalidToken("This invitation was already used or revoked.")
        self.expires_at = expires_at
