"""Staff presence in Redis: one sorted set per organization, member = stream, score = expiry."""

from __future__ import annotations

import contextlib
import time
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError

PREFIX = "kalamna:staff-presence:"


class RedisStaffPresence:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def here(self, organization_id: UUID, stream_id: str, ttl_s: float) -> None:
        key = PREFIX + str(organization_id)
        # Presence only decides whether to email; a miss costs one email at most.
        with contextlib.suppress(RedisError, OSError):
            await self._redis.zadd(key, {stream_id: time.time() + ttl_s})
            await self._redis.expire(key, int(ttl_s) + 60)

    async def gone(self, organization_id: UUID, stream_id: str) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._redis.zrem(PREFIX + str(organization_id), stream_id)

    async def anyone_here(self, organization_id: UUID) -> bool:
        try:
            count = await self._redis.zcount(PREFIX + str(organization_id), time.time(), "+inf")
        except (RedisError, OSError):
            return False
        return bool(count)
