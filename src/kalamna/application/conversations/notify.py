"""Nobody misses a waiting customer: when a conversation starts waiting and no employee has the
console open (no staff event stream in any process), the organization's active employees get one
email about it — one per conversation, at most ``per_hour`` per organization."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from html import escape
from typing import Any

from kalamna.application.mail import QueueMail
from kalamna.domain.chat import ChatSession
from kalamna.domain.identity import EmployeeStatus, Role
from kalamna.domain.mail import EmailMessage
from kalamna.ports.conversations import ConversationRepository, EventSubscription, StaffPresence
from kalamna.ports.jobs import NOTIFY_WAITING_STAFF, JobQueue
from kalamna.ports.repositories import EmployeeRepository, UnitOfWork
from kalamna.ports.security import Clock, RateLimiter

NOTIFY_TASK = NOTIFY_WAITING_STAFF


@dataclass(frozen=True, slots=True)
class NoticePolicy:
    per_hour: int
    dashboard_url: str
    presence_ttl_s: float


def waiting_email(to: str, full_name: str, session: ChatSession, link: str) -> EmailMessage:
    who = session.visitor.get("name") or session.visitor.get("email") or "A customer"
    lines = [
        f"Hello {full_name},",
        f"{who} asked to talk to a person and is waiting for an answer.",
        "Open the conversation to reply:",
    ]
    html = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return EmailMessage(
        to=to,
        subject="A customer is waiting for a person",
        text="\n\n".join([*lines, link]),
        html=(
            f"<!doctype html><html><body>{html}"
            f'<p><a href="{escape(link)}">{escape(link)}</a></p></body></html>'
        ),
    )


class WaitingNotifier:
    """Decides, on the request path, whether the staff must be emailed; the emails themselves are
    written by :class:`NotifyWaitingStaff` in a job, through the mail outbox."""

    def __init__(
        self,
        presence: StaffPresence,
        jobs: JobQueue,
        limiter: RateLimiter,
        clock: Clock,
        policy: NoticePolicy,
    ) -> None:
        self._presence = presence
        self._jobs = jobs
        self._limiter = limiter
        self._clock = clock
        self._policy = policy

    async def __call__(
        self,
        session: ChatSession,
        conversations: ConversationRepository,
        employees: EmployeeRepository,
        uow: UnitOfWork,
    ) -> bool:
        """Whether the emails were queued (not when someone is watching, the conversation was
        already announced, or the organization is over its hourly budget). Call it after the
        waiting transition was committed."""
        if await self._presence.anyone_here(session.organization_id):
            return False
        if not await conversations.claim_staff_notice(session.id, self._clock.now()):
            await uow.rollback()
            return False
        await uow.commit()
        decision = await self._limiter.hit(
            f"handover-notice:{session.organization_id}", limit=self._policy.per_hour, window_s=3600
        )
        if not decision.allowed:
            return False
        await self._jobs.enqueue(
            NOTIFY_TASK,
            key=f"handover-notice:{session.id}",
            organization_id=str(session.organization_id),
            session_id=str(session.id),
        )
        return True

    async def watching(
        self, organization_id: uuid.UUID, subscription: EventSubscription
    ) -> EventSubscription:
        present = PresentSubscription(
            self._presence, organization_id, subscription, self._policy.presence_ttl_s
        )
        await present.renew()
        return present


class PresentSubscription:
    """A staff stream's subscription that keeps its employee counted as present while it is read."""

    def __init__(
        self, presence: StaffPresence, organization_id: uuid.UUID, inner: EventSubscription, ttl_s: float
    ) -> None:
        self._presence = presence
        self._organization_id = organization_id
        self._inner = inner
        self._ttl_s = ttl_s
        self._id = uuid.uuid4().hex
        self._renewed = 0.0

    async def renew(self) -> None:
        self._renewed = time.monotonic()
        await self._presence.here(self._organization_id, self._id, self._ttl_s)

    async def next(self, timeout_s: float) -> Any:
        if time.monotonic() - self._renewed > self._ttl_s / 3:
            await self.renew()
        return await self._inner.next(timeout_s)

    async def close(self) -> None:
        await self._inner.close()
        await self._presence.gone(self._organization_id, self._id)


class NotifyWaitingStaff:
    """The job behind :class:`WaitingNotifier`: one email per active owner and staff member, written
    to the mail outbox in one unit of work (so delivery is exactly-once, like every mail)."""

    def __init__(
        self,
        conversations: ConversationRepository,
        employees: EmployeeRepository,
        mail: QueueMail,
        uow: UnitOfWork,
        policy: NoticePolicy,
    ) -> None:
        self._conversations = conversations
        self._employees = employees
        self._mail = mail
        self._uow = uow
        self._policy = policy

    async def __call__(self, organization_id: uuid.UUID, session_id: uuid.UUID) -> int:
        session = await self._conversations.lock(organization_id, session_id)
        if session is None:
            return 0
        link = f"{self._policy.dashboard_url.rstrip('/')}/conversations/{session.id}"
        sent = 0
        for employee in await self._employees.list_by_organization(organization_id):
            if employee.status is EmployeeStatus.ACTIVE and employee.role in (Role.OWNER, Role.STAFF):
                message = waiting_email(employee.email, employee.full_name, session, link)
                await self._mail(message, kind="handover_notice")
                sent += 1
        await self._uow.commit()
        return sent
