from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from kalamna.adapters.postgres.models import ApiCredentialRow, InvitationRow
from kalamna.domain.api_keys import ApiCredential
from kalamna.domain.identity import Role
from kalamna.domain.invitations import Invitation, InvitationStatus
from kalamna.domain.pages import Page, PageRequest


def _invitation(row: InvitationRow) -> Invitation:
    return Invitation(
        id=row.id,
        organization_id=row.organization_id,
        email=row.email,
        role=Role(row.role),
        invited_by=row.invited_by,
        expires_at=row.expires_at,
        created_at=row.created_at,
        accepted_at=row.accepted_at,
        revoked_at=row.revoked_at,
    )


def _status_filter(status: InvitationStatus, now: datetime) -> ColumnElement[bool]:
    accepted = InvitationRow.accepted_at.is_not(None)
    revoked = InvitationRow.revoked_at.is_not(None)
    if status is InvitationStatus.ACCEPTED:
        return accepted
    if status is InvitationStatus.REVOKED:
        return ~accepted & revoked
    if status is InvitationStatus.EXPIRED:
        return ~accepted & ~revoked & (InvitationRow.expires_at <= now)
    return ~accepted & ~revoked & (InvitationRow.expires_at > now)


class SqlaInvitationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, invitation: Invitation) -> None:
        row = InvitationRow(
            id=invitation.id, created_at=invitation.created_at, organization_id=invitation.organization_id
        )
        self._copy(invitation, row)
        self._session.add(row)
        await self._session.flush()

    async def get(self, organization_id: UUID, invitation_id: UUID) -> Invitation | None:
        row = await self._session.scalar(
            select(InvitationRow).where(
                InvitationRow.organization_id == organization_id, InvitationRow.id == invitation_id
            )
        )
        return _invitation(row) if row else None

    async def get_by_id(self, invitation_id: UUID) -> Invitation | None:
        row = await self._session.get(InvitationRow, invitation_id)
        return _invitation(row) if row else None

    async def find_pending_by_email(
        self, organization_id: UUID, email: str, now: datetime
    ) -> Invitation | None:
        row = await self._session.scalar(
            select(InvitationRow)
            .where(
                InvitationRow.organization_id == organization_id,
                InvitationRow.email == email,
                _status_filter(InvitationStatus.PENDING, now),
            )
            .order_by(InvitationRow.created_at.desc())
            .limit(1)
        )
        return _invitation(row) if row else None

    async def save(self, invitation: Invitation) -> None:
        row = await self._session.get(InvitationRow, invitation.id)
        if row is None:
            raise LookupError(invitation.id)
        self._copy(invitation, row)
        await self._session.flush()

    async def search(
        self, organization_id: UUID, *, status: InvitationStatus | None, now: datetime, page: PageRequest
    ) -> Page[Invitation]:
        where = [InvitationRow.organization_id == organization_id]
        if status is not None:
            where.append(_status_filter(status, now))
        total = await self._session.scalar(select(func.count()).select_from(InvitationRow).where(*where))
        rows = await self._session.scalars(
            select(InvitationRow)
            .where(*where)
            .order_by(InvitationRow.created_at.desc(), InvitationRow.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        return Page([_invitation(r) for r in rows], int(total or 0), page.limit, page.offset)

    async def revoke_pending(self, organization_id: UUID, now: datetime) -> list[UUID]:
        ids = await self._session.scalars(
            update(InvitationRow)
            .where(
                InvitationRow.organization_id == organization_id,
                _status_filter(InvitationStatus.PENDING, now),
            )
            .values(revoked_at=now, updated_at=now)
            .returning(InvitationRow.id)
            .execution_options(synchronize_session=False)
        )
        return list(ids)

    @staticmethod
    def _copy(invitation: Invitation, row: InvitationRow) -> None:
        row.email = invitation.email
        row.role = invitation.role.value
        row.invited_by = invitation.invited_by
        row.expires_at = invitation.expires_at
        row.accepted_at = invitation.accepted_at
        row.revoked_at = invitation.revoked_at
        row.updated_at = invitation.accepted_at or invitation.revoked_at or invitation.created_at


def _credential(row: ApiCredentialRow) -> ApiCredential:
    return ApiCredential(
        id=row.id,
        organization_id=row.organization_id,
        key_hash=row.key_hash,
        display_prefix=row.display_prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class SqlaApiCredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, credential: ApiCredential) -> None:
        self._session.add(
            ApiCredentialRow(
                id=credential.id,
                organization_id=credential.organization_id,
                key_hash=credential.key_hash,
                display_prefix=credential.display_prefix,
                created_at=credential.created_at,
                updated_at=credential.created_at,
            )
        )
        await self._session.flush()

    async def active_for(self, organization_id: UUID) -> ApiCredential | None:
        row = await self._session.scalar(
            select(ApiCredentialRow)
            .where(ApiCredentialRow.organization_id == organization_id, ApiCredentialRow.revoked_at.is_(None))
            .order_by(ApiCredentialRow.created_at.desc())
            .limit(1)
        )
        return _credential(row) if row else None

    async def find_active_by_hash(self, key_hash: str) -> ApiCredential | None:
        row = await self._session.scalar(
            select(ApiCredentialRow).where(
                ApiCredentialRow.key_hash == key_hash, ApiCredentialRow.revoked_at.is_(None)
            )
        )
        return _credential(row) if row else None

    async def revoke_all(self, organization_id: UUID, now: datetime) -> None:
        await self._session.execute(
            update(ApiCredentialRow)
            .where(ApiCredentialRow.organization_id == organization_id, ApiCredentialRow.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )

    async def touch(self, credential_id: UUID, when: datetime) -> None:
        await self._session.execute(
            update(ApiCredentialRow).where(ApiCredentialRow.id == credential_id).values(last_used_at=when)
        )
