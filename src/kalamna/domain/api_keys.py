"""The organization's widget API key: shown once, stored as a digest with a short display prefix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

KEY_PREFIX = "klm_"
DISPLAY_PREFIX_LENGTH = 12  # "klm_" + 8 characters: enough to tell keys apart, useless to an attacker


@dataclass(slots=True)
class ApiCredential:
    id: UUID
    organization_id: UUID
    key_hash: str
    display_prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None
