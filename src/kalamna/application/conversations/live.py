"""Publishing what changed to the customer's stream and to the staff console."""

from __future__ import annotations

from uuid import UUID

from kalamna.application.conversations.payloads import conversation_data, message_data
from kalamna.domain.chat import ChatMessage, ChatSession
from kalamna.domain.handover import ConversationMode
from kalamna.ports.conversations import (
    CUSTOMER,
    STAFF,
    ConversationEvent,
    ConversationEvents,
    ConversationRepository,
)


class Broadcast:
    """Collects the events of one change and publishes them after it is committed."""

    def __init__(self, events: ConversationEvents, session: ChatSession) -> None:
        self._events = events
        self._session = session
        self._pending: list[ConversationEvent] = []

    def _customer(self, name: str, data: dict[str, object]) -> None:
        self._pending.append(
            ConversationEvent(CUSTOMER, self._session.organization_id, self._session.id, name, data)
        )

    def message(self, message: ChatMessage) -> None:
        self._customer("message", message_data(message))

    def mode(self, mode: ConversationMode, agent_name: str | None) -> None:
        self._customer("mode", {"mode": mode.value, "agent_name": agent_name})

    def closed(self) -> None:
        self._customer("closed", {"session_id": str(self._session.id), "status": "closed"})

    async def send(self, conversations: ConversationRepository, *, staff: bool = True) -> None:
        """Publish the customer events, then (unless ``staff`` is False: nobody watches the console)
        the conversation as staff see it now."""
        for event in self._pending:
            await self._events.publish(event)
        self._pending.clear()
        if not staff:
            return
        await publish_conversation(
            self._events, conversations, self._session.organization_id, self._session.id
        )


async def publish_conversation(
    events: ConversationEvents, conversations: ConversationRepository, organization_id: UUID, session_id: UUID
) -> None:
    view = await conversations.view(organization_id, session_id)
    if view is not None:
        await events.publish(
            ConversationEvent(STAFF, organization_id, session_id, "conversation", conversation_data(view))
        )
