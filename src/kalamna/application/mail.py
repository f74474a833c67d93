"""Mail through the transactional outbox: queue in the request's unit of work, deliver exactly once.

The job carries only the outbox id; the message (whose link holds a raw one-time token) is stored
sealed in PostgreSQL and dropped once sent. Delivery claims the row and marks it sent in one
``UPDATE … WHERE sent_at IS NULL`` whose row lock is held while the mail goes out: a second,
concurrent delivery waits, then finds the mail sent and does nothing; a failed send rolls the mark
back so a retry sends it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from kalamna.domain.errors import DependencyUnavailable
from kalamna.domain.mail import EmailMessage
from kalamna.ports.jobs import DELIVER_EMAIL, JobQueue
from kalamna.ports.mail import Mailer, MailOutbox
from kalamna.ports.repositories import UnitOfWork
from kalamna.ports.security import Clock

log = logging.getLogger("kalamna.mail")


class MailNotReady(Exception):
    """The outbox row is not visible yet (its transaction has not committed): retry later."""


def mail_job_key(mail_id: UUID) -> str:
    return f"mail:{mail_id}"


class QueueMail:
    """Store the mail in the caller's transaction; its delivery job is queued once that commits (a
    job queued before would find no row, and retry)."""

    def __init__(self, outbox: MailOutbox, jobs: JobQueue, uow: UnitOfWork, clock: Clock) -> None:
        self._outbox = outbox
        self._jobs = jobs
        self._uow = uow
        self._clock = clock

    async def __call__(self, message: EmailMessage, *, kind: str) -> UUID:
        mail_id = await self._outbox.add(message, kind=kind, now=self._clock.now())

        async def deliver() -> None:
            await self._jobs.enqueue(DELIVER_EMAIL, key=mail_job_key(mail_id), outbox_id=str(mail_id))

        self._uow.after_commit(deliver)
        return mail_id


class DeliverMail:
    def __init__(self, outbox: MailOutbox, mailer: Mailer, uow: UnitOfWork, clock: Clock) -> None:
        self._outbox = outbox
        self._mailer = mailer
        self._uow = uow
        self._clock = clock

    async def __call__(self, mail_id: UUID) -> bool:
        """Send one outbox mail; ``False`` when it was already sent (nothing is sent twice)."""
        message = await self._outbox.claim(mail_id, self._clock.now())
        if message is None:
            if await self._outbox.exists(mail_id):
                log.info("mail already sent", extra={"mail_id": str(mail_id)})
                return False
            raise MailNotReady(str(mail_id))
        try:
            await self._mailer.send(message)
        except BaseException:
            await self._uow.rollback()  # the claim is undone: a retry sends it
            raise
        await self._outbox.forget_content(mail_id)
        await self._uow.commit()
        log.info("mail sent", extra={"mail_id": str(mail_id)})
        return True


class RequeueUnsentMail:
    """Re-queue mails whose job was lost (Redis restart, enqueue failure); job keys dedupe."""

    def __init__(self, outbox: MailOutbox, jobs: JobQueue, clock: Clock) -> None:
        self._outbox = outbox
        self._jobs = jobs
        self._clock = clock

    async def __call__(self, *, older_than: timedelta = timedelta(seconds=30), limit: int = 500) -> int:
        ids = await self._outbox.unsent(self._clock.now() - older_than, limit)
        for mail_id in ids:
            try:
                await self._jobs.enqueue(DELIVER_EMAIL, key=mail_job_key(mail_id), outbox_id=str(mail_id))
            except DependencyUnavailable:
                return 0
        return len(ids)
