from __future__ import annotations

from kalamna.domain.mail import EmailMessage


class MemoryMailer:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
