"""SMTP delivery (STARTTLS or implicit TLS), run in a thread so the event loop never blocks."""

from __future__ import annotations

import asyncio
import smtplib
import ssl

from kalamna.adapters.mail.mime import to_mime
from kalamna.domain.mail import EmailMessage


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        security: str = "starttls",
        timeout_s: float = 20.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._security = security
        self._timeout_s = timeout_s

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        mime = to_mime(message, sender=self._sender)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self._security == "tls":
            smtp = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)
        with smtp:
            if self._security == "starttls":
                smtp.starttls(context=context)
            if self._username:
                smtp.login(self._username, self._password or "")
            smtp.send_message(mime)
