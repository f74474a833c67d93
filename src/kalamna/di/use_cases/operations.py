"""Operations: analytics dashboards (per organization and platform-wide) and the health check."""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all
from redis.asyncio import Redis
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncEngine

from kalamna import __version__
from kalamna.adapters.ai.probes import OfflineModelProbe, OpenAICompatibleProbe
from kalamna.adapters.cache.redis_client import RedisProbe
from kalamna.adapters.postgres.engine import PostgresProbe
from kalamna.adapters.postgres.schema import AlembicSchemaInspector
from kalamna.adapters.queue.saq_queue import QueueProbe
from kalamna.application.analytics import (
    GetOrganizationAnalytics,
    GetPlatformAnalytics,
    ListUnansweredQuestions,
)
from kalamna.application.health import CheckHealth
from kalamna.config import Settings
from kalamna.ports.health import DependencyProbe


class AnalyticsUseCaseProvider(Provider):
    scope = Scope.REQUEST

    use_cases = provide_all(GetPlatformAnalytics, GetOrganizationAnalytics, ListUnansweredQuestions)


class HealthProvider(Provider):
    """``CheckHealth`` probes every dependency: PostgreSQL, Redis, the queue and both models."""

    @provide(scope=Scope.APP)
    def check_health(
        self, engine: AsyncEngine, redis: Redis, queue: Queue, settings: Settings
    ) -> CheckHealth:
        def model_probe(name: str, remote: bool) -> DependencyProbe:
            if remote:
                return OpenAICompatibleProbe(
                    name, base_url=settings.openai_base_url, api_key=settings.openai_api_key or "not-needed"
                )
            return OfflineModelProbe(name)

        return CheckHealth(
            [
                PostgresProbe(engine),
                RedisProbe(redis),
                QueueProbe(queue),
                model_probe("embedder", settings.embedder_is_openai),
                model_probe("llm", settings.llm_is_openai),
            ],
            version=__version__,
            schema=AlembicSchemaInspector(engine),
        )
