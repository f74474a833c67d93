"""The widget gate: one Redis round trip per widget request.

One Lua script reads the organization's access generation (creating a fresh random one when Redis
has none, e.g. after it lost its data: every cached copy is then stale), counts the request's
rate-limit budgets (the same keys and fixed windows as ``RedisRateLimiter.hit``, stopping at the
first refused budget) and tries the ``last_used_at`` throttle (same key as ``RedisThrottle``).
``changed`` replaces the generation with a new random value.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError

from kalamna.domain.errors import DependencyUnavailable
from kalamna.ports.security import RateLimitDecision
from kalamna.ports.widget import Budget, GateResult

GENERATION_PREFIX = "kalamna:widget-gen"

# KEYS[1] generation, KEYS[2] throttle, KEYS[3..] budgets;
# ARGV[1] fresh generation, ARGV[2] throttle window, then (window, limit) per budget.
_ENTER = """
local gen = redis.call('GET', KEYS[1])
if not gen then
  redis.call('SET', KEYS[1], ARGV[1])
  gen = ARGV[1]
end
local first = 0
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then first = 1 end
local out = {gen, first}
for i = 3, #KEYS do
  local window = ARGV[2 * (i - 2) + 1]
  local limit = tonumber(ARGV[2 * (i - 2) + 2])
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('EXPIRE', KEYS[i], window) end
  local ttl = redis.call('TTL', KEYS[i])
  if ttl < 0 then redis.call('EXPIRE', KEYS[i], window); ttl = tonumber(window) end
  out[#out + 1] = count
  out[#out + 1] = ttl
  if count > limit then break end
end
return out
"""


_GENERATION = """
local gen = redis.call('GET', KEYS[1])
if not gen then
  redis.call('SET', KEYS[1], ARGV[1])
  gen = ARGV[1]
end
return gen
"""


def generation_key(organization_id: UUID) -> str:
    return f"{GENERATION_PREFIX}:{organization_id}"


class RedisWidgetGate:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._enter = redis.register_script(_ENTER)
        self._generation = redis.register_script(_GENERATION)

    async def generation(self, organization_id: UUID) -> str:
        try:
            out = await self._generation(keys=[generation_key(organization_id)], args=[uuid.uuid4().hex])
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable("Shared state cannot be read right now.") from exc
        return out.decode() if isinstance(out, bytes) else str(out)

    async def enter(
        self, organization_id: UUID, budgets: Sequence[Budget], throttle_key: str, throttle_s: int
    ) -> GateResult:
        keys = [generation_key(organization_id), f"kalamna:throttle:{throttle_key}"]
        args: list[str | int] = [uuid.uuid4().hex, throttle_s]
        for budget in budgets:
            keys.append(f"kalamna:rl:{budget.bucket}")
            args += [budget.window_s, budget.limit]
        try:
            out = await self._enter(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable("Rate limits cannot be checked right now.") from exc
        generation = out[0].decode() if isinstance(out[0], bytes) else str(out[0])
        decisions = []
        for budget, i in zip(budgets, range(2, len(out), 2), strict=False):
            count, ttl = int(out[i]), int(out[i + 1])
            decisions.append(
                RateLimitDecision(
                    allowed=count <= budget.limit,
                    limit=budget.limit,
                    remaining=max(0, budget.limit - count),
                    reset_after_s=max(1, ttl),
                )
            )
        return GateResult(generation, decisions, bool(int(out[1])))

    async def changed(self, organization_id: UUID) -> None:
        try:
            await self._redis.set(generation_key(organization_id), uuid.uuid4().hex)
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable("The change cannot be announced to every server right now.") from exc
