from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def make_redis(url: str) -> Redis:
    return Redis.from_url(
        url,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=15,
        retry_on_timeout=False,
    )


class RedisProbe:
    name = "redis"
    required = True

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def check(self) -> None:
        try:
            await self._redis.ping()  # type: ignore[misc]
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise ConnectionError(str(exc)) from exc
