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


# Reserve one attempt unless the window is full, in one step: concurrent callers cannot all pass a
# check that precedes the count. Returns (taken, count, ttl).
_RESERVE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[2])
if count >= limit then
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < 0 then ttl = tonumber(ARGV[1]) end
  return {0, count, ttl}
end
count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {1, count, ttl}
"""

_RELEASE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 1
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._hit = redis.register_script(_HIT)
        self._reserve = redis.register_script(_RESERVE)
        self._release = redis.register_script(_RELEASE)

    async def reserve(self, bucket: str, *, limit: int, window_s: int) -> RateLimitDecision:
        try:
            taken, count, ttl = await self._reserve(keys=[f"{_PREFIX}:{bucket}"], args=[window_s, limit])
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable("Rate limits cannot be checked right now.") from exc
        return RateLimitDecision(
            allowed=bool(taken),
            limit=limit,
            remaining=max(0, limit - int(count)),
            reset_after_s=max(1, int(ttl)),
        )

    async def release(self, bucket: str) -> None:
        try:
            await self._release(keys=[f"{_PREFIX}:{bucket}"])
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable("Rate limits cannot be checked right now.") from exc

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
