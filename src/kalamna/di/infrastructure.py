"""Infrastructure: settings, the database engine and sessions, Redis, the job queue, the clock and
the security primitives (password hashing, access tokens, random secrets).

Engines, pools and clients are created here, inside providers (never at import time), and closed by
the container. The database session lives in REQUEST scope and is only closed by its finalizer,
which rolls back anything uncommitted: use cases commit through the unit of work.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

from dishka import Provider, Scope, from_context, provide
from redis.asyncio import Redis
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kalamna.adapters.cache.redis_client import make_redis
from kalamna.adapters.clock import SystemClock
from kalamna.adapters.postgres.engine import make_engine, make_session_factory
from kalamna.adapters.queue.saq_queue import SaqJobQueue, make_queue
from kalamna.adapters.security.jwt_tokens import JwtAccessTokenIssuer
from kalamna.adapters.security.keys import current_key, previous_keys
from kalamna.adapters.security.passwords import Argon2Parameters, Argon2PasswordHasher
from kalamna.adapters.security.secrets import RandomSecretTokens
from kalamna.config import Settings
from kalamna.ports.jobs import JobQueue
from kalamna.ports.security import AccessTokenIssuer, Clock, PasswordHasher, SecretTokens


class InfrastructureProvider(Provider):
    """Settings (from the container's context) and the connections every adapter shares."""

    settings = from_context(provides=Settings, scope=Scope.APP)

    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        assert settings.database_url, "database_url must be resolved before the container starts"
        engine = make_engine(
            settings.database_url, pool_size=settings.database_pool_size, echo=settings.database_echo
        )
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def session_factory(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return make_session_factory(engine)

    @provide(scope=Scope.REQUEST)
    async def session(self, factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        async with factory() as session:
            yield session

    @provide(scope=Scope.APP)
    async def redis(self, settings: Settings) -> AsyncIterator[Redis]:
        assert settings.redis_url, "redis_url must be resolved before the container starts"
        client = make_redis(settings.redis_url)
        yield client
        await client.aclose()

    @provide(scope=Scope.APP)
    async def saq_queue(self, settings: Settings) -> AsyncIterator[Queue]:
        assert settings.redis_url
        queue = make_queue(settings.redis_url, settings.queue_name)
        yield queue
        await queue.disconnect()

    @provide(scope=Scope.APP)
    def job_queue(self, queue: Queue) -> JobQueue:
        return SaqJobQueue(queue)


class SecurityPrimitivesProvider(Provider):
    """Stateless security services and the clock: APP scope."""

    @provide(scope=Scope.APP)
    def clock(self) -> Clock:
        return SystemClock()

    @provide(scope=Scope.APP)
    def password_hasher(self, settings: Settings) -> Iterator[PasswordHasher]:
        hasher = Argon2PasswordHasher(
            Argon2Parameters(
                memory_kib=settings.argon2_memory_kib,
                time_cost=settings.argon2_time_cost,
                parallelism=settings.argon2_parallelism,
            ),
            max_threads=settings.argon2_threads or max(1, (os.cpu_count() or 2) - 1),
        )
        yield hasher
        hasher.close()

    @provide(scope=Scope.APP)
    def access_tokens(self, settings: Settings) -> AccessTokenIssuer:
        return JwtAccessTokenIssuer(
            current=current_key(
                settings.jwt_algorithm,
                settings.jwt_key_id,
                settings.jwt_secret,
                settings.jwt_private_key_file,
            ),
            previous=previous_keys(settings.jwt_previous_keys),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            lifetime_s=settings.access_token_ttl_s,
        )

    @provide(scope=Scope.APP)
    def secret_tokens(self) -> SecretTokens:
        return RandomSecretTokens()
