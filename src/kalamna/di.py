"""Dishka providers: wire ports to adapters according to settings.

APP scope holds engines, pools and clients (created inside providers, never at import time);
REQUEST scope holds the database session and the use cases. Sessions are closed, never committed,
by their finalizer: use cases commit through the unit of work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container, provide
from redis.asyncio import Redis
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kalamna import __version__
from kalamna.adapters.cache.redis_client import RedisProbe, make_redis
from kalamna.adapters.mail.outbox import OutboxMailer
from kalamna.adapters.mail.smtp import SmtpMailer
from kalamna.adapters.postgres.engine import PostgresProbe, make_engine, make_session_factory
from kalamna.adapters.queue.saq_queue import QueueProbe, SaqJobQueue, make_queue
from kalamna.application.health import CheckHealth
from kalamna.config import Settings
from kalamna.ports.jobs import JobQueue
from kalamna.ports.mail import Mailer


class InfrastructureProvider(Provider):
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

    @provide(scope=Scope.APP)
    def mailer(self, settings: Settings) -> Mailer:
        if settings.mail_backend == "smtp":
            return SmtpMailer(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.mail_from,
                username=settings.smtp_username,
                password=settings.smtp_password,
                security=settings.smtp_security,
            )
        return OutboxMailer(settings.data_dir / "mail", sender=settings.mail_from)


class OperationsProvider(Provider):
    @provide(scope=Scope.APP)
    def check_health(self, engine: AsyncEngine, redis: Redis, queue: Queue) -> CheckHealth:
        return CheckHealth(
            [PostgresProbe(engine), RedisProbe(redis), QueueProbe(queue)],
            version=__version__,
        )


def providers() -> list[Provider]:
    return [InfrastructureProvider(), OperationsProvider()]


def make_container(settings: Settings, *extra: Provider) -> AsyncContainer:
    """Build the container; ``extra`` providers (e.g. the Litestar request provider, test fakes)
    override earlier ones."""
    return make_async_container(*providers(), *extra, context={Settings: settings})
