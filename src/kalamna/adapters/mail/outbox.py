"""Writes each email as an ``.eml`` file into a directory (the ``kalamna dev`` default)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

from kalamna.adapters.mail.mime import to_mime
from kalamna.domain.mail import EmailMessage


class OutboxMailer:
    def __init__(self, directory: Path, *, sender: str) -> None:
        self._directory = directory
        self._sender = sender

    async def send(self, message: EmailMessage) -> None:
        data = to_mime(message, sender=self._sender).as_bytes()
        await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:12]}.eml"
        tmp = self._directory / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self._directory / name)  # readers never see a half-written file
