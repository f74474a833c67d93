"""Revocations in Redis: revoked ``jti``s until the token would expire anyway, and per-employee /
per-organization "not before" moments. One MGET per authenticated request. Fails closed."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable
from typing import TypeVar
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError

from kalamna.domain.errors import DependencyUnavailable
from kalamna.ports.security import AccessClaims

_PREFIX = "kalamna:revoked"
T = TypeVar("T")


class RedisRevocationStore:
    def __init__(self, redis: Redis, *, access_lifetime_s: int) -> None:
        self._redis = redis
        # "Not before" marks only matter while a token issued before them can still be alive.
        self._cutoff_ttl_s = access_lifetime_s + 60

    async def revoke_access_token(self, jti: str, expires_at: float) -> None:
        ttl = max(1, math.ceil(expires_at - time.time()) + 5)
        await self._guard(self._redis.set(f"{_PREFIX}:jti:{jti}", b"1", ex=ttl))

    async def revoke_subject_before(self, subject: UUID, moment: float) -> None:
        await self._guard(self._redis.set(f"{_PREFIX}:sub:{subject}", repr(moment), ex=self._cutoff_ttl_s))

    async def revoke_organization_before(self, organization_id: UUID, moment: float) -> None:
        await self._guard(
            self._redis.set(f"{_PREFIX}:org:{organization_id}", repr(moment), ex=self._cutoff_ttl_s)
        )

    async def is_revoked(self, claims: AccessClaims) -> bool:
        keys = [f"{_PREFIX}:jti:{claims.jti}", f"{_PREFIX}:sub:{claims.subject}"]
        if claims.organization_id:
            keys.append(f"{_PREFIX}:org:{claims.organization_id}")
        values: list[bytes | None] = await self._guard(self._redis.mget(keys))
        if values[0] is not None:
            return True
        return any(value is not None and claims.issued_at < float(value) for value in values[1:])

    @staticmethod
    async def _guard(awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable("Sessions cannot be checked right now; try again shortly.") from exc
