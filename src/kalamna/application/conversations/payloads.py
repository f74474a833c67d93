"""The contract's ``Message`` and ``Conversation`` as JSON-ready dicts, for events that cross
processes (the REST responses build the same shapes with msgspec at the edge; a test keeps them equal)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kalamna.domain.chat import ChatMessage, ReplyOutcome
from kalamna.ports.conversations import ConversationView

VISITOR_KEYS = ("id", "name", "email", "locale")
PREVIEW_CHARS = 140


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def message_data(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "session_id": str(message.session_id),
        "role": message.role.value,
        "content": message.content,
        "sources": [
            {"entry_id": str(s.entry_id), "title": s.title, "score": s.score} for s in message.sources
        ],
        "author_name": message.author_name,
        "interrupted": message.outcome is ReplyOutcome.INTERRUPTED,
        "created_at": timestamp(message.created_at),
    }


def visitor_of(visitor: dict[str, str]) -> dict[str, str | None]:
    return {key: visitor.get(key) for key in VISITOR_KEYS}


def conversation_data(view: ConversationView) -> dict[str, Any]:
    s = view.session
    return {
        "id": str(s.id),
        "status": s.status.value,
        "mode": s.mode.value,
        "visitor": visitor_of(s.visitor),
        "metadata": dict(s.metadata),
        "assigned_to": str(s.assigned_to) if s.assigned_to else None,
        "assigned_name": view.assigned_name,
        "message_count": view.message_count,
        "last_message_at": timestamp(view.last_message_at),
        "last_message_preview": view.last_message_preview,
        "rating": view.rating,
        "handover_reason": s.handover_reason,
        "waiting_since": timestamp(s.waiting_since),
        "created_at": timestamp(s.created_at),
        "closed_at": timestamp(s.closed_at),
    }
