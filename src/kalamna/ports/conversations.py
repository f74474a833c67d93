"""Staff-side persistence of conversations (section 10) and the live conversation events."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from kalamna.domain.chat import ChatSession
from kalamna.domain.handover import ConversationFilters
from kalamna.domain.pages import Page, PageRequest
from kalamna.ports.chat import ChatRepository
from kalamna.ports.repositories import EmployeeRepository, UnitOfWork


@dataclass(frozen=True, slots=True)
class ConversationView:
    """A conversation as staff see it: the session and figures about its messages."""

    session: ChatSession
    assigned_name: str | None
    message_count: int
    last_message_at: datetime | None
    last_message_preview: str | None
    rating: int | None


@dataclass(frozen=True, slots=True)
class ExportRow:
    session_id: UUID
    started_at: datetime
    visitor: dict[str, str]
    mode: str
    role: str
    author: str | None
    content: str
    sources: list[str]
    rating: int | None


class ConversationRepository(Protocol):
    async def lock(self, organization_id: UUID, session_id: UUID) -> ChatSession | None:
        """The session, locked until the transaction ends (transitions from several processes
        do not interleave). Another organization's session is None."""
        ...

    async def view(self, organization_id: UUID, session_id: UUID) -> ConversationView | None: ...

    async def search(
        self, organization_id: UUID, filters: ConversationFilters, page: PageRequest
    ) -> Page[ConversationView]:
        """Latest activity first."""
        ...

    async def export(
        self, organization_id: UUID, filters: ConversationFilters, limit: int
    ) -> list[ExportRow]:
        """One row per message of the matching conversations, conversation by conversation."""
        ...

    async def start_handover(
        self, organization_id: UUID, session_id: UUID, reason: str, question_id: UUID | None, at: datetime
    ) -> None: ...

    async def first_response(self, session_id: UUID, at: datetime) -> None:
        """The open handover of the session got its first agent message (kept if already set)."""
        ...

    async def end_handover(self, session_id: UUID, at: datetime) -> None: ...

    async def claim_staff_notice(self, session_id: UUID, at: datetime) -> bool:
        """Mark that staff were emailed about this conversation; False if it was already done."""
        ...


@dataclass(frozen=True, slots=True)
class ConversationEvent:
    """Something staff or the customer should see at once. ``audience`` is ``customer`` (the
    session's own stream) or ``staff`` (the organization's console stream); ``data`` is the JSON
    body of the SSE event, already in the contract's shape."""

    audience: str
    organization_id: UUID
    session_id: UUID
    name: str
    data: dict[str, Any] = field(default_factory=dict)


CUSTOMER = "customer"
STAFF = "staff"


class EventSubscription(Protocol):
    async def next(self, timeout_s: float) -> ConversationEvent | None:
        """The next event, or None when ``timeout_s`` passed without one."""
        ...

    async def close(self) -> None: ...


class ConversationEvents(Protocol):
    """Publish to every API process; subscribe to one session's or one organization's events."""

    async def publish(self, event: ConversationEvent) -> None: ...

    async def subscribe(self, audience: str, key: UUID) -> EventSubscription:
        """``key`` is the session id (customer) or the organization id (staff). Events published
        after this returns are delivered."""
        ...


class ChatTransaction(Protocol):
    """Repositories sharing one database transaction, for work that outlives a request (a reply
    that is still being produced when its client has gone)."""

    @property
    def chats(self) -> ChatRepository: ...

    @property
    def conversations(self) -> ConversationRepository: ...

    @property
    def employees(self) -> EmployeeRepository: ...

    @property
    def uow(self) -> UnitOfWork: ...


class ChatTransactions(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[ChatTransaction]:
        """A new transaction; it is rolled back on exit unless committed through ``uow``."""
        ...


class StaffPresence(Protocol):
    """Which organizations have an employee watching the console (an open staff event stream),
    shared by every API process."""

    async def here(self, organization_id: UUID, stream_id: str, ttl_s: float) -> None:
        """This stream is open; it counts for ``ttl_s`` unless renewed."""
        ...

    async def gone(self, organization_id: UUID, stream_id: str) -> None: ...

    async def anyone_here(self, organization_id: UUID) -> bool: ...
