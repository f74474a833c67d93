from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError


class RedisThrottle:
    """``SET key NX EX window``: exactly one caller per window, across processes. Best effort: when
    Redis is down the caller is told "not first" (the write it guards is an optimisation)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def first_in_window(self, key: str, window_s: int) -> bool:
        try:
            return bool(await self._redis.set(f"kalamna:throttle:{key}", b"1", nx=True, ex=window_s))
        except (RedisError, OSError):
            return False
