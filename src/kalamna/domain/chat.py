"""Chat sessions of the widget, their messages and the customers' feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from kalamna.domain.errors import DomainError, InvalidInput

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


class ReplyOutcome(StrEnum):
    """How an assistant reply came about; analytics count fallbacks from it."""

    ANSWERED = "answered"
    FALLBACK = "fallback"  # the knowledge base had nothing, or the model said so
    LLM_UNAVAILABLE = "llm_unavailable"  # the model could not be reached; the fallback was sent


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

    def ensure_open(self) -> None:
        if self.status is SessionStatus.CLOSED:
            raise SessionClosed()

    def close(self, now: datetime) -> None:
        if self.status is SessionStatus.OPEN:
            self.status = SessionStatus.CLOSED
            self.closed_at = now
            self.updated_at = now


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
