"""Fixed-window counters in Redis, shared by every API process."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

from kalamna.domain.errors import DependencyUnavailable
from kalamna.ports.security import RateLimitDecision

_PREFIX = "kalamna:rl"

# INCR and set the window's expiry on first hit, atomically; returns (count, ttl).
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._hit = redis.register_script(_HIT)

    async def hit(self, bucket: str, *, limit: int, window_s: int) -> RateLimitDecision:
        try:
            count, ttl = await self._hit(keys=[f"{_PREFIX}:{bucket}"], args=[window_s])
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable("Rate limits cannot be checked right now.") from exc
        return _decide(int(count), int(ttl), limit, allow_equal=True)

    async def peek(self, bucket: str, *, limit: int, window_s: int) -> RateLimitDecision:
        key = f"{_PREFIX}:{bucket}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(key)
                pipe.ttl(key)
                raw, ttl = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable("Rate limits cannot be checked right now.") from exc
        count = int(raw or 0)
        return _decide(count, int(ttl) if int(ttl) > 0 else window_s, limit, allow_equal=False)


def _decide(count: int, ttl: int, limit: int, *, allow_equal: bool) -> RateLimitDecision:
    allowed = count <= limit if allow_equal else count < limit
    return RateLimitDecision(
        allowed=allowed, limit=limit, remaining=max(0, limit - count), reset_after_s=max(1, ttl)
    )
