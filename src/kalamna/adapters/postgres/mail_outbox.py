"""The mail outbox in PostgreSQL; contents sealed with AES-256-GCM (key derived from a secret)."""

from __future__ import annotations

import os
from datetime import datetime
from uuid import UUID

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kalamna.adapters.postgres.models import MailOutboxRow
from kalamna.domain.ids import new_id
from kalamna.domain.mail import EmailMessage

_INFO = b"kalamna mail outbox v1"


class MailSealer:
    """Encrypts outbox contents, so the raw one-time token in a link is not readable from the
    database (or a backup) without the application's secret."""

    def __init__(self, secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, message: EmailMessage, mail_id: UUID) -> bytes:
        nonce = os.urandom(12)
        plain = msgspec.json.encode(message.to_payload())
        return nonce + self._aead.encrypt(nonce, plain, mail_id.bytes)

    def open(self, sealed: bytes, mail_id: UUID) -> EmailMessage:
        plain = self._aead.decrypt(sealed[:12], sealed[12:], mail_id.bytes)
        return EmailMessage.from_payload(msgspec.json.decode(plain, type=dict[str, str]))


class SqlaMailOutbox:
    def __init__(self, session: AsyncSession, sealer: MailSealer) -> None:
        self._session = session
        self._sealer = sealer

    async def add(self, message: EmailMessage, *, kind: str, now: datetime) -> UUID:
        mail_id = new_id()
        self._session.add(
            MailOutboxRow(
                id=mail_id,
                kind=kind,
                sealed=self._sealer.seal(message, mail_id),
                created_at=now,
                updated_at=now,
            )
        )
        await self._session.flush()
        return mail_id

    async def claim(self, mail_id: UUID, now: datetime) -> EmailMessage | None:
        sealed = await self._session.scalar(
            update(MailOutboxRow)
            .where(MailOutboxRow.id == mail_id, MailOutboxRow.sent_at.is_(None))
            .values(sent_at=now, updated_at=now)
            .returning(MailOutboxRow.sealed)
            .execution_options(synchronize_session=False)
        )
        if sealed is None:
            return None
        return self._sealer.open(sealed, mail_id)

    async def exists(self, mail_id: UUID) -> bool:
        found = await self._session.scalar(select(MailOutboxRow.id).where(MailOutboxRow.id == mail_id))
        return found is not None

    async def forget_content(self, mail_id: UUID) -> None:
        await self._session.execute(
            update(MailOutboxRow)
            .where(MailOutboxRow.id == mail_id)
            .values(sealed=None)
            .execution_options(synchronize_session=False)
        )

    async def unsent(self, created_before: datetime, limit: int) -> list[UUID]:
        ids = await self._session.scalars(
            select(MailOutboxRow.id)
            .where(MailOutboxRow.sent_at.is_(None), MailOutboxRow.created_at < created_before)
            .order_by(MailOutboxRow.created_at)
            .limit(limit)
        )
        return list(ids)
