from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kalamna.adapters.postgres.models import OneTimeTokenRow, RefreshSessionRow
from kalamna.domain.tokens import OneTimeToken, RefreshSession, TokenPurpose


def _token_from_row(row: OneTimeTokenRow) -> OneTimeToken:
    return OneTimeToken(
        id=row.id,
        purpose=TokenPurpose(row.purpose),
        token_hash=row.token_hash,
        expires_at=row.expires_at,
        created_at=row.created_at,
        employee_id=row.employee_id,
        invitation_id=row.invitation_id,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )


class SqlaOneTimeTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: OneTimeToken) -> None:
        self._session.add(
            OneTimeTokenRow(
                id=token.id,
                purpose=token.purpose.value,
                token_hash=token.token_hash,
                employee_id=token.employee_id,
                invitation_id=token.invitation_id,
                expires_at=token.expires_at,
                created_at=token.created_at,
                updated_at=token.created_at,
            )
        )
        await self._session.flush()

    async def find(self, token_hash: str, purpose: TokenPurpose) -> OneTimeToken | None:
        row = await self._session.scalar(
            select(OneTimeTokenRow).where(
                OneTimeTokenRow.token_hash == token_hash, OneTimeTokenRow.purpose == purpose.value
            )
        )
        return _token_from_row(row) if row else None

    async def consume(self, token_id: UUID, now: datetime) -> bool:
        """A single conditional UPDATE: of two concurrent consumers exactly one sees a row."""
        consumed = await self._session.scalar(
            update(OneTimeTokenRow)
            .where(
                OneTimeTokenRow.id == token_id,
                OneTimeTokenRow.used_at.is_(None),
                OneTimeTokenRow.revoked_at.is_(None),
                OneTimeTokenRow.expires_at > now,
            )
            .values(used_at=now, updated_at=now)
            .returning(OneTimeTokenRow.id)
        )
        return consumed is not None

    async def revoke_for_employee(self, employee_id: UUID, purpose: TokenPurpose, now: datetime) -> None:
        await self._session.execute(
            update(OneTimeTokenRow)
            .where(
                OneTimeTokenRow.employee_id == employee_id,
                OneTimeTokenRow.purpose == purpose.value,
                OneTimeTokenRow.used_at.is_(None),
                OneTimeTokenRow.revoked_at.is_(None),
            )
            .values(revoked_at=now, updated_at=now)
        )

    async def revoke_for_invitation(self, invitation_id: UUID, now: datetime) -> None:
        await self._session.execute(
            update(OneTimeTokenRow)
            .where(
                OneTimeTokenRow.invitation_id == invitation_id,
                OneTimeTokenRow.used_at.is_(None),
                OneTimeTokenRow.revoked_at.is_(None),
            )
            .values(revoked_at=now, updated_at=now)
        )


def _session_from_row(row: RefreshSessionRow) -> RefreshSession:
    return RefreshSession(
        id=row.id,
        family_id=row.family_id,
        employee_id=row.employee_id,
        token_hash=row.token_hash,
        expires_at=row.expires_at,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        replaced_by=row.replaced_by,
    )


class SqlaRefreshSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, session: RefreshSession) -> None:
        self._session.add(
            RefreshSessionRow(
                id=session.id,
                family_id=session.family_id,
                employee_id=session.employee_id,
                token_hash=session.token_hash,
                expires_at=session.expires_at,
                created_at=session.created_at,
                updated_at=session.created_at,
            )
        )
        await self._session.flush()

    async def find(self, token_hash: str) -> RefreshSession | None:
        row = await self._session.scalar(
            select(RefreshSessionRow).where(RefreshSessionRow.token_hash == token_hash)
        )
        return _session_from_row(row) if row else None

    async def rotate(self, session_id: UUID, successor: RefreshSession, now: datetime) -> bool:
        rotated = await self._session.scalar(
            update(RefreshSessionRow)
            .where(
                RefreshSessionRow.id == session_id,
                RefreshSessionRow.revoked_at.is_(None),
                RefreshSessionRow.expires_at > now,
            )
            .values(revoked_at=now, replaced_by=successor.id, updated_at=now)
            .returning(RefreshSessionRow.id)
        )
        if rotated is None:
            return False
        await self.add(successor)
        return True

    async def revoke(self, session_id: UUID, now: datetime) -> None:
        await self._session.execute(
            update(RefreshSessionRow)
            .where(RefreshSessionRow.id == session_id, RefreshSessionRow.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        await self._session.execute(
            update(RefreshSessionRow)
            .where(RefreshSessionRow.family_id == family_id, RefreshSessionRow.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )

    async def revoke_all_for_employee(self, employee_id: UUID, now: datetime) -> None:
        await self._session.execute(
            update(RefreshSessionRow)
            .where(RefreshSessionRow.employee_id == employee_id, RefreshSessionRow.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )
