"""The customer's handover call and close, and the staff inbox (section 10 of the contract)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from uuid import UUID

from kalamna.application.access import require
from kalamna.application.auth.principal import Principal
from kalamna.application.conversations.hooks import announce_conversation, announce_messages
from kalamna.application.conversations.live import Broadcast
from kalamna.application.conversations.notify import WaitingNotifier
from kalamna.application.conversations.replies import new_message
from kalamna.domain.analytics import DateRange
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.chat import ChatMessage, ChatSession, MessageRole, check_message
from kalamna.domain.errors import Forbidden, InvalidInput, NotFound
from kalamna.domain.handover import (
    ConversationFilters,
    ConversationMode,
    HandoverDisabled,
    HandoverReason,
    clean_reason,
)
from kalamna.domain.identity import EmployeeStatus, Role
from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.policy import Action, is_allowed
from kalamna.domain.terms import guess_language
from kalamna.domain.text import normalize_for_search
from kalamna.domain.webhooks import WebhookEvent
from kalamna.ports.chat import ChatRepository
from kalamna.ports.conversations import (
    STAFF,
    ConversationEvents,
    ConversationRepository,
    ConversationView,
    EventSubscription,
    ExportRow,
)
from kalamna.ports.repositories import BotConfigRepository, EmployeeRepository, UnitOfWork
from kalamna.ports.security import Clock
from kalamna.ports.webhooks import WebhookEvents

RELEASE_MESSAGE = {
    "en": "You are back with the assistant. You can ask for a person again at any time.",
    "ar": "عدت إلى المساعد الآلي. يمكنك طلب التحدث مع موظف مرة أخرى في أي وقت.",
}
MAX_DETAIL_MESSAGES = 1000
MAX_EXPORT_ROWS = 100_000


def release_message(config: BotConfig | None, session: ChatSession) -> str:
    locale = (session.visitor.get("locale") or (config.language if config else "") or "").lower()
    return RELEASE_MESSAGE["ar" if locale.startswith("ar") else "en"]


@dataclass(frozen=True, slots=True)
class ConversationDetail:
    view: ConversationView
    messages: list[ChatMessage]


class _Conversations:
    """What every staff use case shares: the policy check, the locked session, the events."""

    def __init__(
        self,
        chats: ChatRepository,
        conversations: ConversationRepository,
        employees: EmployeeRepository,
        configs: BotConfigRepository,
        uow: UnitOfWork,
        clock: Clock,
        events: ConversationEvents,
        webhooks: WebhookEvents | None = None,
    ) -> None:
        self._webhooks = webhooks
        self._chats = chats
        self._conversations = conversations
        self._employees = employees
        self._configs = configs
        self._uow = uow
        self._clock = clock
        self._events = events

    async def _locked(self, principal: Principal, organization_id: UUID, session_id: UUID) -> ChatSession:
        require(principal, organization_id, Action.HANDLE_CONVERSATIONS)
        session = await self._conversations.lock(organization_id, session_id)
        if session is None:
            raise NotFound("Conversation not found.")
        return session

    async def _view(self, session: ChatSession) -> ConversationView:
        view = await self._conversations.view(session.organization_id, session.id)
        if view is None:
            raise NotFound("Conversation not found.")
        return view

    async def _name(self, employee_id: UUID | None) -> str | None:
        if employee_id is None:
            return None
        employee = await self._employees.get(employee_id)
        return employee.full_name if employee else None

    async def _commit(self, session: ChatSession, broadcast: Broadcast) -> ConversationView:
        await self._chats.save_session(session)
        await self._uow.commit()
        await broadcast.send(self._conversations)
        return await self._view(session)


class ListConversations(_Conversations):
    async def __call__(
        self,
        principal: Principal,
        organization_id: UUID,
        page: PageRequest,
        *,
        status: str | None = None,
        mode: str | None = None,
        assigned_to: str | None = None,
        q: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Page[ConversationView]:
        require(principal, organization_id, Action.HANDLE_CONVERSATIONS)
        filters = parse_filters(principal, self._clock, status, mode, assigned_to, q, date_from, date_to)
        return await self._conversations.search(organization_id, filters, page)


class GetConversation(_Conversations):
    async def __call__(
        self, principal: Principal, organization_id: UUID, session_id: UUID
    ) -> ConversationDetail:
        require(principal, organization_id, Action.HANDLE_CONVERSATIONS)
        view = await self._conversations.view(organization_id, session_id)
        if view is None:
            raise NotFound("Conversation not found.")
        messages = await self._chats.messages(
            organization_id, session_id, PageRequest(MAX_DETAIL_MESSAGES, 0)
        )
        return ConversationDetail(view, list(messages.items))


class AssignConversation(_Conversations):
    async def __call__(
        self, principal: Principal, organization_id: UUID, session_id: UUID, employee_id: UUID | None
    ) -> ConversationView:
        assignee_id = employee_id or principal.employee_id
        if assignee_id != principal.employee_id and not is_allowed(
            principal.role, Action.ASSIGN_CONVERSATIONS_TO_OTHERS
        ):
            require(principal, organization_id, Action.HANDLE_CONVERSATIONS)  # a stranger gets 404
            raise Forbidden("Staff may assign a conversation only to themselves.")
        session = await self._locked(principal, organization_id, session_id)
        assignee = await self._employees.get_in_organization(organization_id, assignee_id)
        if assignee is None or assignee.status is not EmployeeStatus.ACTIVE:
            raise InvalidInput(
                "Assign the conversation to an active employee of the organization.",
                extra={"fields": [{"key": "employee_id", "message": "not an active employee here"}]},
            )
        now = self._clock.now()
        before = session.mode
        session.ensure_open()
        previous = session.assigned_to
        change = session.assign(assignee.id, now)
        if before is ConversationMode.BOT:
            await self._conversations.start_handover(
                organization_id, session.id, HandoverReason.ASSIGNED.value, None, now
            )
        broadcast = Broadcast(self._events, session)
        broadcast.mode(change.after, assignee.full_name)
        view = await self._commit(session, broadcast)
        if change.changed or previous != assignee.id:
            await announce_conversation(self._webhooks, WebhookEvent.CONVERSATION_ASSIGNED, view)
        return view


class ReplyAsAgent(_Conversations):
    async def __call__(
        self, principal: Principal, organization_id: UUID, session_id: UUID, content: str
    ) -> ChatMessage:
        text = check_message(content)
        session = await self._locked(principal, organization_id, session_id)
        now = self._clock.now()
        before = session.mode
        change = session.agent_replies(
            principal.employee_id,
            now,
            may_override=is_allowed(principal.role, Action.REPLY_IN_OTHERS_CONVERSATIONS),
        )
        author = await self._name(principal.employee_id)
        message = new_message(session, MessageRole.AGENT, text, now)
        message.author_id = principal.employee_id if principal.role is not Role.SUPERUSER else None
        message.author_name = author
        await self._chats.add_message(message)
        if before is ConversationMode.BOT:
            await self._conversations.start_handover(
                organization_id, session.id, HandoverReason.ASSIGNED.value, None, now
            )
        await self._conversations.first_response(session.id, now)
        broadcast = Broadcast(self._events, session)
        broadcast.message(message)
        if change.changed:
            broadcast.mode(change.after, author)
        view = await self._commit(session, broadcast)
        await announce_messages(self._webhooks, message)
        if change.changed:  # the reply took the conversation
            await announce_conversation(self._webhooks, WebhookEvent.CONVERSATION_ASSIGNED, view)
        return message


class ReleaseConversation(_Conversations):
    async def __call__(
        self, principal: Principal, organization_id: UUID, session_id: UUID
    ) -> ConversationView:
        session = await self._locked(principal, organization_id, session_id)
        now = self._clock.now()
        change = session.release(now)
        broadcast = Broadcast(self._events, session)
        notice = None
        if change.changed:
            config = await self._configs.get(organization_id)
            notice = new_message(session, MessageRole.SYSTEM, release_message(config, session), now)
            await self._chats.add_message(notice)
            await self._conversations.end_handover(session.id, now)
            broadcast.message(notice)
            broadcast.mode(ConversationMode.BOT, None)
        view = await self._commit(session, broadcast)
        await announce_messages(self._webhooks, notice)
        return view


class CloseConversation(_Conversations):
    async def __call__(
        self, principal: Principal, organization_id: UUID, session_id: UUID
    ) -> ConversationView:
        session = await self._locked(principal, organization_id, session_id)
        return await close_conversation(self, session)


async def close_conversation(cases: _Conversations, session: ChatSession) -> ConversationView:
    broadcast = Broadcast(cases._events, session)
    closing = session.status.value == "open"
    if closing:
        now = cases._clock.now()
        session.close(now)
        await cases._conversations.end_handover(session.id, now)
        broadcast.closed()
    view = await cases._commit(session, broadcast)
    if closing:
        await announce_conversation(cases._webhooks, WebhookEvent.CONVERSATION_CLOSED, view)
    return view


class ExportConversations(_Conversations):
    async def __call__(
        self, principal: Principal, organization_id: UUID, *, date_from: str | None, date_to: str | None
    ) -> list[ExportRow]:
        require(principal, organization_id, Action.HANDLE_CONVERSATIONS)
        filters = parse_filters(principal, self._clock, None, None, None, None, date_from, date_to)
        return await self._conversations.export(organization_id, filters, MAX_EXPORT_ROWS)


class RequestHandover(_Conversations):
    """The customer's "talk to a person": ``bot`` → ``waiting``; already waiting or human: unchanged."""

    def __init__(
        self,
        chats: ChatRepository,
        conversations: ConversationRepository,
        employees: EmployeeRepository,
        configs: BotConfigRepository,
        uow: UnitOfWork,
        clock: Clock,
        events: ConversationEvents,
        notify: WaitingNotifier,
        webhooks: WebhookEvents | None = None,
    ) -> None:
        super().__init__(chats, conversations, employees, configs, uow, clock, events, webhooks)
        self._notify = notify

    async def __call__(self, session: ChatSession, config: BotConfig, reason: str | None) -> ChatSession:
        if not config.handover.enabled:
            raise HandoverDisabled()
        current = await self._conversations.lock(session.organization_id, session.id)
        if current is None:
            raise NotFound("Conversation not found.")
        now = self._clock.now()
        change = current.ask_for_person(
            HandoverReason.REQUESTED, clean_reason(reason, HandoverReason.REQUESTED.value), now
        )
        if not change.changed:
            await self._uow.rollback()
            return current
        notice = new_message(
            current, MessageRole.SYSTEM, config.handover.message_for(_language(current, reason)), now
        )
        await self._chats.add_message(notice)
        await self._conversations.start_handover(
            current.organization_id, current.id, HandoverReason.REQUESTED.value, None, now
        )
        broadcast = Broadcast(self._events, current)
        broadcast.message(notice)
        broadcast.mode(current.mode, None)
        view = await self._commit(current, broadcast)
        await announce_messages(self._webhooks, notice)
        await announce_conversation(self._webhooks, WebhookEvent.CONVERSATION_WAITING, view)
        await self._notify(current, self._conversations, self._employees, self._uow)
        return current


class CustomerCloses(_Conversations):
    """The customer closes the chat from the widget; staff see it at once."""

    async def __call__(self, session: ChatSession) -> ChatSession:
        current = await self._conversations.lock(session.organization_id, session.id)
        if current is None:
            raise NotFound("Conversation not found.")
        await close_conversation(self, current)
        return current


def parse_filters(
    principal: Principal,
    clock: Clock,
    status: str | None,
    mode: str | None,
    assigned_to: str | None,
    q: str | None,
    date_from: str | None,
    date_to: str | None,
) -> ConversationFilters:
    problems: list[dict[str, str]] = []
    if status is not None and status not in ("open", "closed"):
        problems.append({"key": "status", "message": "open or closed"})
    if mode is not None and mode not in {m.value for m in ConversationMode}:
        problems.append({"key": "mode", "message": "bot, waiting or human"})
    assignee: UUID | None = None
    if assigned_to == "me":
        assignee = principal.employee_id
    elif assigned_to is not None:
        try:
            assignee = UUID(assigned_to)
        except ValueError:
            problems.append({"key": "assigned_to", "message": "an employee id or 'me'"})
    if problems:
        raise InvalidInput("Some filters are not valid.", extra={"fields": problems})
    starts_at = ends_before = None
    if date_from is not None or date_to is not None:
        period = DateRange.parse(date_from, date_to, clock.now().astimezone(UTC).date())
        starts_at, ends_before = period.starts_at, period.ends_before
    text = normalize_for_search(q or "") or None
    return ConversationFilters(
        status=status,
        mode=ConversationMode(mode) if mode else None,
        assigned_to=assignee,
        text=text,
        starts_at=starts_at,
        ends_before=ends_before,
    )


class WatchConversations:
    """The staff console's live stream of the organization's conversations."""

    def __init__(self, events: ConversationEvents, notify: WaitingNotifier) -> None:
        self._events = events
        self._notify = notify

    async def __call__(self, principal: Principal, organization_id: UUID) -> EventSubscription:
        require(principal, organization_id, Action.HANDLE_CONVERSATIONS)
        subscription = await self._events.subscribe(STAFF, organization_id)
        return await self._notify.watching(organization_id, subscription)


def _language(session: ChatSession, reason: str | None) -> str:
    """The customer's language for a notice: the widget's locale (``ar-EG`` → ``ar``), else the
    script of the reason they typed, else none (the default message)."""
    locale = str(session.visitor.get("locale") or "")
    if locale:
        return locale.split("-")[0].lower()
    return guess_language(reason) if reason and reason.strip() else ""
