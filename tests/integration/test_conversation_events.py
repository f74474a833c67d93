"""One contract for the conversation events port and the staff presence port: the Redis adapters
(on the session's Redis) and the in-memory ones pass the same tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from kalamna.adapters.cache.events import RedisConversationEvents
from kalamna.adapters.cache.presence import RedisStaffPresence
from kalamna.adapters.memory.events import MemoryConversationEvents, MemoryStaffPresence
from kalamna.ports.conversations import CUSTOMER, STAFF, ConversationEvent


@pytest.fixture(params=["memory", "redis"])
async def events(request: Any, services: Any, clean_state: Any) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield MemoryConversationEvents()
        return
    redis = Redis.from_url(services.redis_url)
    adapter = RedisConversationEvents(redis)
    try:
        yield adapter
    finally:
        await adapter.aclose()
        await redis.aclose()


def event(audience: str, org: Any, session: Any, name: str = "message", **data: Any) -> ConversationEvent:
    return ConversationEvent(audience, org, session, name, data)


async def test_subscribers_get_their_channel_only(events: Any) -> None:
    org, other_org, session, other_session = uuid4(), uuid4(), uuid4(), uuid4()
    customer = await events.subscribe(CUSTOMER, session)
    staff = await events.subscribe(STAFF, org)
    await events.publish(event(CUSTOMER, org, other_session, text="not yours"))
    await events.publish(event(STAFF, other_org, other_session, "conversation", id="x"))
    await events.publish(event(CUSTOMER, org, session, text="hello", nested={"a": [1, "ب"]}))
    await events.publish(event(STAFF, org, session, "conversation", id="y"))
    got = await customer.next(2.0)
    assert got == event(CUSTOMER, org, session, text="hello", nested={"a": [1, "ب"]})
    assert (await staff.next(2.0)) == event(STAFF, org, session, "conversation", id="y")
    assert await customer.next(0.2) is None  # nothing else: the others went elsewhere
    assert await staff.next(0.2) is None
    await customer.close()
    await staff.close()


async def test_every_subscriber_gets_every_event_in_order(events: Any) -> None:
    org, session = uuid4(), uuid4()
    first = await events.subscribe(CUSTOMER, session)
    second = await events.subscribe(CUSTOMER, session)
    for n in range(5):
        await events.publish(event(CUSTOMER, org, session, n=n))
    for subscription in (first, second):
        assert [(await subscription.next(2.0)).data["n"] for _ in range(5)] == [0, 1, 2, 3, 4]  # type: ignore[union-attr]
    await first.close()
    await events.publish(event(CUSTOMER, org, session, n=5))
    assert (await second.next(2.0)).data == {"n": 5}  # type: ignore[union-attr]
    assert await first.next(0.2) is None  # closed: nothing more
    await second.close()


async def test_next_times_out_with_none(events: Any) -> None:
    subscription = await events.subscribe(STAFF, uuid4())
    started = asyncio.get_running_loop().time()
    assert await subscription.next(0.3) is None
    assert asyncio.get_running_loop().time() - started >= 0.29
    await subscription.close()


async def test_redis_events_cross_connections(services: Any, clean_state: Any) -> None:
    """Two adapters on two connections stand for two API processes."""
    a_redis, b_redis = Redis.from_url(services.redis_url), Redis.from_url(services.redis_url)
    a, b = RedisConversationEvents(a_redis), RedisConversationEvents(b_redis)
    try:
        org, session = uuid4(), uuid4()
        on_a = await a.subscribe(CUSTOMER, session)
        await b.publish(event(CUSTOMER, org, session, text="from b"))
        assert (await on_a.next(2.0)).data == {"text": "from b"}  # type: ignore[union-attr]
    finally:
        await a.aclose()
        await b.aclose()
        await a_redis.aclose()
        await b_redis.aclose()


@pytest.fixture(params=["memory", "redis"])
async def presence(request: Any, services: Any, clean_state: Any) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield MemoryStaffPresence()
        return
    redis = Redis.from_url(services.redis_url)
    try:
        yield RedisStaffPresence(redis)
    finally:
        await redis.aclose()


async def test_presence(presence: Any) -> None:
    org, other = uuid4(), uuid4()
    assert not await presence.anyone_here(org)
    await presence.here(org, "s1", 30)
    await presence.here(org, "s2", 0.2)
    assert await presence.anyone_here(org)
    assert not await presence.anyone_here(other)
    await presence.gone(org, "s1")
    assert await presence.anyone_here(org)  # s2 still counts
    await asyncio.sleep(0.3)
    assert not await presence.anyone_here(org)  # s2 expired without renewal
