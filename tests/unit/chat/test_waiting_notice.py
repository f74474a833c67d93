"""The "a customer is waiting" email: only when nobody watches, once per conversation, rate-limited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from kalamna.adapters.memory.events import MemoryConversationEvents, MemoryStaffPresence
from kalamna.adapters.memory.identity import MemoryEmployeeRepository, MemoryStore
from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.memory.security import FixedClock, MemoryRateLimiter
from kalamna.adapters.memory.store import MemoryUnitOfWork
from kalamna.application.conversations.notify import NoticePolicy, WaitingNotifier, waiting_email
from kalamna.domain.chat import ChatSession, SessionStatus
from kalamna.domain.identity import Employee, EmployeeStatus, Role
from kalamna.ports.conversations import STAFF
from kalamna.ports.jobs import NOTIFY_WAITING_STAFF

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Claims:
    def __init__(self) -> None:
        self.claimed: set[UUID] = set()

    async def claim_staff_notice(self, session_id: UUID, at: datetime) -> bool:
        if session_id in self.claimed:
            return False
        self.claimed.add(session_id)
        return True


def employee(org: UUID, email: str, role: Role, status: EmployeeStatus = EmployeeStatus.ACTIVE) -> Employee:
    return Employee(uuid4(), org, email, email.split("@")[0], role, status, "h", NOW, NOW)


def conversation(org: UUID) -> ChatSession:
    return ChatSession(uuid4(), org, "t", SessionStatus.OPEN, NOW, NOW, visitor={"name": "Sara"})


async def setup(per_hour: int = 10) -> tuple[Any, ...]:
    org = uuid4()
    store = MemoryStore()
    employees = MemoryEmployeeRepository(store)
    for e in (
        employee(org, "owner@x.test", Role.OWNER),
        employee(org, "staff@x.test", Role.STAFF),
        employee(org, "gone@x.test", Role.STAFF, EmployeeStatus.DISABLED),
        employee(org, "new@x.test", Role.STAFF, EmployeeStatus.PENDING),
        employee(uuid4(), "elsewhere@y.test", Role.OWNER),
    ):
        await employees.add(e)
    presence, jobs = MemoryStaffPresence(), MemoryJobQueue()
    notifier = WaitingNotifier(
        presence, jobs, MemoryRateLimiter(), FixedClock(NOW), NoticePolicy(per_hour, "https://dash.test", 30)
    )
    return org, notifier, presence, jobs, employees, MemoryUnitOfWork(store)


async def test_a_conversation_is_announced_once() -> None:
    org, notifier, _, jobs, employees, uow = await setup()
    claims, waiting = Claims(), conversation(org)
    assert await notifier(waiting, claims, employees, uow) is True  # type: ignore[arg-type]
    assert [(j.task, j.kwargs) for j in jobs.jobs] == [
        (NOTIFY_WAITING_STAFF, {"organization_id": str(org), "session_id": str(waiting.id)})
    ]
    assert await notifier(waiting, claims, employees, uow) is False  # type: ignore[arg-type]
    assert len(jobs.jobs) == 1


def test_the_email_names_the_visitor_and_links_the_conversation() -> None:
    waiting = conversation(uuid4())
    link = f"https://dash.test/conversations/{waiting.id}"
    message = waiting_email("staff@x.test", "Staff", waiting, link)
    assert message.to == "staff@x.test"
    assert "Sara asked to talk to a person" in message.text
    assert link in message.text


async def test_nobody_is_emailed_while_someone_watches() -> None:
    org, notifier, _, _, employees, uow = await setup()
    subscription = await notifier.watching(org, await MemoryConversationEvents().subscribe(STAFF, org))
    assert await notifier(conversation(org), Claims(), employees, uow) is False  # type: ignore[arg-type]
    await subscription.close()
    assert await notifier(conversation(org), Claims(), employees, uow) is True  # type: ignore[arg-type]


async def test_rate_limited_per_organization() -> None:
    org, notifier, _, _, employees, uow = await setup(per_hour=2)
    claims = Claims()
    sent = [await notifier(conversation(org), claims, employees, uow) for _ in range(4)]  # type: ignore[arg-type]
    assert sent == [True, True, False, False]
