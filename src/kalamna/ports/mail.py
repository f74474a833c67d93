from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from kalamna.domain.mail import EmailMessage


class Mailer(Protocol):
    """Delivers one email now. Raises on failure so the calling job can retry."""

    async def send(self, message: EmailMessage) -> None: ...


class MailOutbox(Protocol):
    """The transactional outbox: a mail is stored in the same transaction as the change that caused
    it, and delivered later by id. Delivery claims a mail and marks it sent in one step, so a second
    delivery of the same id does nothing."""

    async def add(self, message: EmailMessage, *, kind: str, now: datetime) -> UUID:
        """Store a mail (its content sealed) in the current unit of work."""
        ...

    async def claim(self, mail_id: UUID, now: datetime) -> EmailMessage | None:
        """Mark an unsent mail sent, uncommitted (the row stays locked until commit or rollback),
        and return it; ``None`` when it was sent already or does not exist (yet)."""
        ...

    async def exists(self, mail_id: UUID) -> bool: ...

    async def forget_content(self, mail_id: UUID) -> None:
        """Drop a sent mail's sealed content (its link holds a one-time token)."""
        ...

    async def unsent(self, created_before: datetime, limit: int) -> list[UUID]: ...
