"""Persistence port of the widget's conversations."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from kalamna.domain.chat import ChatMessage, ChatSession, Feedback
from kalamna.domain.pages import Page, PageRequest


class ChatRepository(Protocol):
    async def add_session(self, session: ChatSession) -> None: ...

    async def get_session(
        self, organization_id: UUID, session_id: UUID, token_hash: str, *, lock: bool = False
    ) -> ChatSession | None:
        """A session is found only with its organization, its id and its token together. ``lock``:
        its row stays locked until the transaction ends (as ``ConversationRepository.lock``)."""
        ...

    async def get_session_by_token(self, session_id: UUID, token_hash: str) -> ChatSession | None:
        """Feedback may come with the session token alone (256 bits: it names one session)."""
        ...

    async def save_session(self, session: ChatSession) -> None: ...

    async def add_message(self, message: ChatMessage) -> None: ...

    async def messages(self, organization_id: UUID, session_id: UUID, page: PageRequest) -> Page[ChatMessage]:
        """Oldest first."""
        ...

    async def recent_messages(self, organization_id: UUID, session_id: UUID, limit: int) -> list[ChatMessage]:
        """The last ``limit`` messages, oldest first."""
        ...

    async def message_in_session(self, organization_id: UUID, session_id: UUID, message_id: UUID) -> bool: ...

    async def add_feedback(self, feedback: Feedback) -> None: ...
