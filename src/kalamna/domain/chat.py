"""Chat sessions of the widget, their messages and the customers' feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from kalamna.domain.errors import DomainError, InvalidInput
from kalamna.domain.handover import AssignedToSomeoneElse, ConversationMode, HandoverReason, ModeChange

MAX_MESSAGE_CHARS = 4000


class SessionClosed(DomainError):
    code = "session_closed"
    default_detail = "This conversation is closed; start a new one."


class SessionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    AGENT = "agent"
    SYSTEM = "system"  # what the product tells the customer (a person is being fetched, released)


class ReplyOutcome(StrEnum):
    """How an assistant reply came about; analytics count fallbacks from it."""

    ANSWERED = "answered"
    FALLBACK = "fallback"  # the knowledge base had nothing, or the model said so
    LLM_UNAVAILABLE = "llm_unavailable"  # the model could not be reached; the fallback was sent
    INTERRUPTED = "interrupted"  # the server stopped mid-reply: what was produced is kept
    HANDOVER = "handover"  # a system reply: the question led to a handover (counts as unanswered)


@dataclass(frozen=True, slots=True)
class SourceRef:
    entry_id: UUID
    title: str
    score: float


@dataclass(slots=True)
class ChatSession:
    id: UUID
    organization_id: UUID
    token_hash: str
    status: SessionStatus
    created_at: datetime
    updated_at: datetime
    visitor: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    closed_at: datetime | None = None
    # Human handover (domain.handover): the mode and who holds the conversation.
    mode: ConversationMode = ConversationMode.BOT
    assigned_to: UUID | None = None
    handover_reason: str | None = None
    waiting_since: datetime | None = None
    fallbacks_in_row: int = 0

    def ensure_open(self) -> None:
        if self.status is SessionStatus.CLOSED:
            raise SessionClosed()

    def close(self, now: datetime) -> None:
        if self.status is SessionStatus.OPEN:
            self.status = SessionStatus.CLOSED
            self.closed_at = now
            self.updated_at = now

    # --- Handover transitions: each refuses what is not allowed -------------------------------

    @property
    def bot_answers(self) -> bool:
        """The bot answers only an open conversation in ``bot`` mode; never while waiting or human."""
        return self.status is SessionStatus.OPEN and self.mode is ConversationMode.BOT

    def _move(self, mode: ConversationMode, now: datetime) -> ModeChange:
        change = ModeChange(self.mode, mode)
        self.mode = mode
        self.updated_at = now
        return change

    def ask_for_person(self, reason: HandoverReason, detail: str, now: datetime) -> ModeChange:
        """The customer (or an automatic trigger) asks for a person: ``bot`` → ``waiting``.
        Already ``waiting`` or ``human``: nothing changes."""
        self.ensure_open()
        if self.mode is not ConversationMode.BOT:
            return ModeChange(self.mode, self.mode)
        self.handover_reason = detail or reason.value
        self.waiting_since = now
        self.fallbacks_in_row = 0
        return self._move(ConversationMode.WAITING, now)

    def count_bot_reply(self, fallback: bool) -> int:
        """A bot reply was sent; returns how many fallbacks in a row there are now."""
        self.ensure_open()
        if self.mode is not ConversationMode.BOT:
            raise SessionNotWithBot()
        self.fallbacks_in_row = self.fallbacks_in_row + 1 if fallback else 0
        return self.fallbacks_in_row

    def fallbacks_trigger_handover(self, after_fallbacks: int, *, next_is_fallback: bool = True) -> bool:
        """Would one more fallback (or this one, already counted) reach ``after_fallbacks``?"""
        if after_fallbacks <= 0 or self.mode is not ConversationMode.BOT:
            return False
        return self.fallbacks_in_row + (1 if next_is_fallback else 0) >= after_fallbacks

    def assign(self, employee_id: UUID, now: datetime) -> ModeChange:
        """An employee takes the conversation (or an owner gives it to one): any mode → ``human``."""
        self.ensure_open()
        if self.mode is ConversationMode.BOT:
            self.handover_reason = self.handover_reason or HandoverReason.ASSIGNED.value
            self.waiting_since = None
        self.assigned_to = employee_id
        self.fallbacks_in_row = 0
        change = self._move(ConversationMode.HUMAN, now)
        return change

    def agent_replies(self, employee_id: UUID, now: datetime, *, may_override: bool) -> ModeChange:
        """An employee writes to the customer. A ``bot`` or ``waiting`` conversation becomes theirs;
        one assigned to someone else is refused unless ``may_override`` (an owner)."""
        self.ensure_open()
        if self.mode is ConversationMode.HUMAN and self.assigned_to not in (None, employee_id):
            if not may_override:
                raise AssignedToSomeoneElse()
            return ModeChange(self.mode, self.mode)
        if self.mode is ConversationMode.HUMAN and self.assigned_to == employee_id:
            self.updated_at = now
            return ModeChange(self.mode, self.mode)
        return self.assign(employee_id, now)

    def release(self, now: datetime) -> ModeChange:
        """Back to the bot: ``waiting``/``human`` → ``bot``, unassigned. Already ``bot``: unchanged."""
        self.ensure_open()
        if self.mode is ConversationMode.BOT:
            return ModeChange(self.mode, self.mode)
        self.assigned_to = None
        self.waiting_since = None
        self.fallbacks_in_row = 0
        return self._move(ConversationMode.BOT, now)


class SessionNotWithBot(DomainError):
    code = "conflict"
    default_detail = "A person is handling this conversation; the bot does not answer."


@dataclass(slots=True)
class ChatMessage:
    id: UUID
    session_id: UUID
    organization_id: UUID
    role: MessageRole
    content: str
    created_at: datetime
    sources: list[SourceRef] = field(default_factory=list)
    reply_to: UUID | None = None
    outcome: ReplyOutcome | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int | None = None
    first_token_ms: int | None = None
    # Agent messages: who wrote it (the name is kept as it was when the message was sent).
    author_id: UUID | None = None
    author_name: str | None = None


@dataclass(slots=True)
class Feedback:
    id: UUID
    session_id: UUID
    organization_id: UUID
    rating: int
    created_at: datetime
    comment: str | None = None
    message_id: UUID | None = None


def check_message(content: str) -> str:
    text = content.strip()
    if not text or len(content) > MAX_MESSAGE_CHARS:
        raise InvalidInput(
            "A message has 1 to 4000 characters.",
            extra={"fields": [{"key": "content", "message": "1–4000 characters"}]},
        )
    return text


def check_rating(rating: int) -> None:
    if not 1 <= rating <= 5:
        raise InvalidInput("The rating is 1 to 5.", extra={"fields": [{"key": "rating", "message": "1–5"}]})
