"""Issue a one-time token: a random secret for the email link, only its digest stored."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from kalamna.domain.ids import new_id
from kalamna.domain.tokens import OneTimeToken, TokenPurpose
from kalamna.ports.repositories import OneTimeTokenRepository
from kalamna.ports.security import SecretTokens


async def issue_one_time_token(
    tokens: OneTimeTokenRepository,
    secrets: SecretTokens,
    *,
    purpose: TokenPurpose,
    now: datetime,
    expires_at: datetime,
    employee_id: UUID | None = None,
    invitation_id: UUID | None = None,
) -> str:
    """Store the token's digest and return the raw token (it goes into the email, nowhere else)."""
    raw = secrets.new()
    await tokens.add(
        OneTimeToken(
            id=new_id(),
            purpose=purpose,
            token_hash=secrets.digest(raw),
            expires_at=expires_at,
            created_at=now,
            employee_id=employee_id,
            invitation_id=invitation_id,
        )
    )
    return raw


async def replace_employee_token(
    tokens: OneTimeTokenRepository,
    secrets: SecretTokens,
    *,
    purpose: TokenPurpose,
    now: datetime,
    expires_at: datetime,
    employee_id: UUID,
) -> str:
    """Revoke the employee's earlier tokens of ``purpose`` (only the latest link works), then issue one."""
    await tokens.revoke_for_employee(employee_id, purpose, now)
    return await issue_one_time_token(
        tokens, secrets, purpose=purpose, now=now, expires_at=expires_at, employee_id=employee_id
    )
