"""In-memory mail outbox for unit tests (no sealing: nothing leaves the process)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from kalamna.adapters.memory.store import Transactional
from kalamna.domain.ids import new_id
from kalamna.domain.mail import EmailMessage


@dataclass
class MemoryMailOutbox(Transactional):
    """The outbox table: a mail added in a transaction that rolls back is gone, as in PostgreSQL."""

    messages: dict[UUID, EmailMessage] = field(default_factory=dict)
    created: dict[UUID, datetime] = field(default_factory=dict)
    sent: dict[UUID, datetime] = field(default_factory=dict)

    async def add(self, message: EmailMessage, *, kind: str, now: datetime) -> UUID:
        mail_id = new_id()
        self.messages[mail_id] = message
        self.created[mail_id] = now
        return mail_id

    async def claim(self, mail_id: UUID, now: datetime) -> EmailMessage | None:
        if mail_id not in self.messages or mail_id in self.sent:
            return None
        self.sent[mail_id] = now
        return self.messages[mail_id]

    async def exists(self, mail_id: UUID) -> bool:
        return mail_id in self.created

    async def forget_content(self, mail_id: UUID) -> None:
        self.messages.pop(mail_id, None)

    async def unsent(self, created_before: datetime, limit: int) -> list[UUID]:
        return [m for m, at in self.created.items() if m not in self.sent and at < created_before][:limit]

    def last_to(self, to: str) -> EmailMessage:
        for message in reversed(list(self.messages.values())):
            if message.to == to:
                return message
        raise AssertionError(f"no email to {to}")
