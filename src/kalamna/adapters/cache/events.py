"""Conversation events across API processes: Redis pub/sub.

Every process holds ONE pub/sub connection, pattern-subscribed to ``kalamna:events:*``, and fans
what arrives out to its local subscribers (SSE streams); publishing is one ``PUBLISH``. Events are
not stored: a stream that was not connected misses them and reads the history instead. When Redis
goes away the listener reconnects with a back-off; ``subscribe`` waits (bounded) for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError

from kalamna.adapters.memory.events import LocalFanout, QueueSubscription, channel_for, channel_of
from kalamna.domain.errors import DependencyUnavailable
from kalamna.ports.conversations import ConversationEvent

log = logging.getLogger("kalamna.events")
PREFIX = "kalamna:events:"


def _encode(event: ConversationEvent) -> str:
    return json.dumps(
        {
            "audience": event.audience,
            "organization_id": str(event.organization_id),
            "session_id": str(event.session_id),
            "name": event.name,
            "data": event.data,
        },
        ensure_ascii=False,
    )


def _decode(raw: bytes | str) -> ConversationEvent:
    body: dict[str, Any] = json.loads(raw)
    return ConversationEvent(
        audience=body["audience"],
        organization_id=UUID(body["organization_id"]),
        session_id=UUID(body["session_id"]),
        name=body["name"],
        data=body["data"],
    )


class RedisConversationEvents:
    def __init__(self, redis: Redis, *, ready_timeout_s: float = 5.0) -> None:
        self._redis = redis
        self._fanout = LocalFanout()
        self._ready = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._ready_timeout_s = ready_timeout_s

    async def publish(self, event: ConversationEvent) -> None:
        try:
            await self._redis.publish(PREFIX + channel_for(event), _encode(event))
        except (RedisError, OSError) as exc:
            # The change itself is stored; live viewers see it on their next read.
            log.warning("conversation event not published: %s", exc)

    async def subscribe(self, audience: str, key: UUID) -> QueueSubscription:
        if self._listener is None or self._listener.done():
            self._ready.clear()
            self._listener = asyncio.create_task(self._listen(), name="conversation-events")
        subscription = self._fanout.add(channel_of(audience, key))
        try:
            await asyncio.wait_for(self._ready.wait(), self._ready_timeout_s)
        except TimeoutError as exc:
            await subscription.close()
            raise DependencyUnavailable("Live events are unavailable right now.") from exc
        return subscription

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(PREFIX + "*")
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        self._ready.set()
                        delay = 0.1
                    elif message["type"] == "pmessage":
                        self._dispatch(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._ready.clear()
                log.warning("conversation events: Redis listener lost (%s); reconnecting", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _dispatch(self, channel: bytes | str, data: bytes | str) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        try:
            event = _decode(data)
        except (ValueError, KeyError, TypeError):
            log.warning("conversation events: malformed message on %s", name)
            return
        self._fanout.deliver(name.removeprefix(PREFIX), event)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
