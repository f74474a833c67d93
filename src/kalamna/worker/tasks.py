"""Task functions. Each gets its dependencies from the Dishka container kept in the SAQ context,
with one REQUEST scope per job (one unit of work per job)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from dishka import AsyncContainer

from kalamna.application.auth.passwords import ForgotPassword
from kalamna.application.auth.verification import ResendVerification
from kalamna.application.conversations.notify import NotifyWaitingStaff
from kalamna.application.knowledge.ingestion import FailIngestion, IngestEntry
from kalamna.application.mail import DeliverMail, RequeueUnsentMail

Context = dict[str, Any]


def _container(ctx: Context) -> AsyncContainer:
    container: AsyncContainer = ctx["container"]
    return container


async def deliver_email(ctx: Context, *, outbox_id: str) -> bool:
    """Send one outbox mail, at most once (see ``application.mail``). Raises on failure so SAQ
    retries with backoff; the job carries only the outbox id, never the message or its token."""
    async with _container(ctx)() as scope:
        return await (await scope.get(DeliverMail))(UUID(outbox_id))


async def requeue_unsent_mail(ctx: Context) -> int:
    """Queue again every mail whose job was lost; run at worker start and every minute."""
    async with _container(ctx)() as scope:
        return await (await scope.get(RequeueUnsentMail))()


async def request_password_reset(ctx: Context, *, email: str) -> None:
    """The lookup behind ``POST /auth/password/forgot``, off the request path (no timing oracle)."""
    async with _container(ctx)() as scope:
        await (await scope.get(ForgotPassword))(email)


async def resend_verification(ctx: Context, *, email: str) -> None:
    """The lookup behind ``POST /auth/verify/resend``, off the request path."""
    async with _container(ctx)() as scope:
        await (await scope.get(ResendVerification))(email)


async def notify_waiting_staff(ctx: Context, *, organization_id: str, session_id: str) -> int:
    """Email the staff that a customer waits for a person (queued only when nobody watches)."""
    async with _container(ctx)() as scope:
        return await (await scope.get(NotifyWaitingStaff))(UUID(organization_id), UUID(session_id))


async def ingest_entry(ctx: Context, *, entry_id: str, version: int) -> str:
    """Extract → chunk → embed → index one entry version. Idempotent; an outdated version is a no-op.

    Transient failures (e.g. the embedding service) raise so that SAQ retries with backoff; when the
    last attempt fails the entry is marked ``failed`` with a readable error instead of hanging in
    ``processing``.
    """
    job = ctx.get("job")
    async with _container(ctx)() as scope:
        ingest = await scope.get(IngestEntry)
        try:
            outcome = await ingest(UUID(entry_id), int(version), on_progress=_progress(job))
        except Exception as exc:
            if job is None or job.attempts >= job.retries:
                async with _container(ctx)() as cleanup:
                    await (await cleanup.get(FailIngestion))(UUID(entry_id), int(version), exc)
            raise
    return outcome.value


def _progress(job: Any) -> Callable[[float], Awaitable[None]] | None:
    if job is None:
        return None

    async def touch(fraction: float) -> None:
        await job.update(progress=round(fraction, 3))  # also refreshes the heartbeat

    return touch


def _more_tasks() -> list[Any]:
    from kalamna.worker.webhook_tasks import deliver_webhook, requeue_webhook_deliveries

    return [deliver_webhook, requeue_webhook_deliveries]


TASKS: list[Any] = [
    deliver_email,
    ingest_entry,
    requeue_unsent_mail,
    request_password_reset,
    resend_verification,
    notify_waiting_staff,
    *_more_tasks(),
]
