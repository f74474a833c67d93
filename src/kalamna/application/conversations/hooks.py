"""Webhook events of conversations, published after the change is committed (``docs/webhooks.md``).

``conversation.waiting`` / ``.assigned`` / ``.closed`` carry the contract's ``Conversation``;
``message.created`` carries ``{conversation_id, message}`` with the contract's ``Message``, for every
message the customer sees: the customer's, the bot's, an agent's and the system notices.
"""

from __future__ import annotations

import logging

from kalamna.application.conversations.payloads import conversation_data, message_data
from kalamna.domain.chat import ChatMessage, ChatSession
from kalamna.domain.webhooks import WebhookEvent
from kalamna.ports.conversations import ConversationRepository, ConversationView
from kalamna.ports.webhooks import WebhookEvents

log = logging.getLogger("kalamna.webhooks")


async def announce_messages(webhooks: WebhookEvents | None, *messages: ChatMessage | None) -> None:
    if webhooks is None:
        return
    for message in messages:
        if message is not None:
            data = {"conversation_id": str(message.session_id), "message": message_data(message)}
            await webhooks.publish(message.organization_id, WebhookEvent.MESSAGE_CREATED, data)


async def announce_conversation(
    webhooks: WebhookEvents | None, event: WebhookEvent, view: ConversationView
) -> None:
    if webhooks is not None:
        await webhooks.publish(view.session.organization_id, event, conversation_data(view))


async def announce_session(
    webhooks: WebhookEvents | None,
    event: WebhookEvent,
    conversations: ConversationRepository,
    session: ChatSession,
) -> None:
    """As ``announce_conversation``, reading the conversation's view first (only when publishing)."""
    if webhooks is None:
        return
    try:
        view = await conversations.view(session.organization_id, session.id)
    except Exception:  # publishing never fails the caller's committed work
        log.exception("webhook event not published", extra={"event": event.value})
        return
    if view is not None:
        await announce_conversation(webhooks, event, view)
