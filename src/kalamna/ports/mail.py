from __future__ import annotations

from typing import Protocol

from kalamna.domain.mail import EmailMessage


class Mailer(Protocol):
    """Delivers one email now. Raises on failure so the calling job can retry."""

    async def send(self, message: EmailMessage) -> None: ...
