"""Task functions. Each gets its dependencies from the Dishka container kept in the SAQ context,
with one REQUEST scope per job (one unit of work per job)."""

from __future__ import annotations

from typing import Any

from dishka import AsyncContainer

from kalamna.domain.mail import EmailMessage
from kalamna.ports.mail import Mailer

Context = dict[str, Any]


def _container(ctx: Context) -> AsyncContainer:
    container: AsyncContainer = ctx["container"]
    return container


async def deliver_email(ctx: Context, *, message: dict[str, str]) -> None:
    """Send one email. Raises on failure so SAQ retries with backoff."""
    async with _container(ctx)() as scope:
        mailer = await scope.get(Mailer)
        await mailer.send(EmailMessage.from_payload(message))


TASKS = [deliver_email]
