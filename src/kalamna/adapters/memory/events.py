"""Conversation events within one process: a fan-out from channel to subscriber queues.

``MemoryConversationEvents`` is the in-memory adapter (unit tests, a single process); the Redis
adapter uses the same fan-out for what it receives from Redis."""

from __future__ import annotations

import asyncio
import contextlib
from uuid import UUID

from kalamna.ports.conversations import ConversationEvent

QUEUE_SIZE = 1000  # a client that reads nothing for this long loses the oldest events


def channel_of(audience: str, key: UUID) -> str:
    return f"{audience}:{key}"


def channel_for(event: ConversationEvent) -> str:
    return channel_of(
        event.audience, event.session_id if event.audience == "customer" else event.organization_id
    )


class QueueSubscription:
    def __init__(self, fanout: LocalFanout, channel: str) -> None:
        self.channel = channel
        self.queue: asyncio.Queue[ConversationEvent] = asyncio.Queue(QUEUE_SIZE)
        self._fanout = fanout

    def offer(self, event: ConversationEvent) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def next(self, timeout_s: float) -> ConversationEvent | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return None

    async def close(self) -> None:
        self._fanout.remove(self)


class LocalFanout:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[QueueSubscription]] = {}

    def add(self, channel: str) -> QueueSubscription:
        subscription = QueueSubscription(self, channel)
        self._subscribers.setdefault(channel, set()).add(subscription)
        return subscription

    def remove(self, subscription: QueueSubscription) -> None:
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.channel]

    def deliver(self, channel: str, event: ConversationEvent) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.offer(event)

    def count(self, channel: str) -> int:
        return len(self._subscribers.get(channel, ()))


class MemoryConversationEvents:
    def __init__(self) -> None:
        self._fanout = LocalFanout()

    async def publish(self, event: ConversationEvent) -> None:
        self._fanout.deliver(channel_for(event), event)

    async def subscribe(self, audience: str, key: UUID) -> QueueSubscription:
        return self._fanout.add(channel_of(audience, key))

    def listeners(self, audience: str, key: UUID) -> int:
        return self._fanout.count(channel_of(audience, key))


class MemoryStaffPresence:
    def __init__(self) -> None:
        self._streams: dict[UUID, dict[str, float]] = {}

    async def here(self, organization_id: UUID, stream_id: str, ttl_s: float) -> None:
        import time

        self._streams.setdefault(organization_id, {})[stream_id] = time.monotonic() + ttl_s

    async def gone(self, organization_id: UUID, stream_id: str) -> None:
        self._streams.get(organization_id, {}).pop(stream_id, None)

    async def anyone_here(self, organization_id: UUID) -> bool:
        import time

        return any(expiry > time.monotonic() for expiry in self._streams.get(organization_id, {}).values())
