"""The production container with in-memory adapters: use cases are resolved exactly as in production
(``kalamna.di.make_container``: the same providers, same scopes), only the ports that reach PostgreSQL,
Redis, the mail server or a model are swapped for the fakes of ``kalamna.adapters.memory``.

Every swap is declared ``override=True``, and ``make_container`` checks overrides
(``kalamna.di.OVERRIDES_CHECKED``): an override that replaces nothing (a port no longer provided in
``kalamna/di/``) raises ``NothingOverriddenError``, a swap not declared ``override=True`` raises
``ImplicitOverrideDetectedError``; both name the type. ``tests/unit/test_overrides.py`` proves it.

    container = memory_container(settings)
    async with container() as scope:           # one request / one job
        create = await scope.get(CreateEntry)
    await container.close()
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from dishka import AsyncContainer, Provider, Scope, provide

import kalamna.di
from kalamna.adapters.memory.analytics import ChatStore, MemoryAnalyticsRepository
from kalamna.adapters.memory.identity import (
    MemoryApiCredentialRepository,
    MemoryBotConfigRepository,
    MemoryEmployeeRepository,
    MemoryInvitationRepository,
    MemoryOneTimeTokenRepository,
    MemoryOrganizationRepository,
    MemoryRefreshSessionRepository,
    MemoryStore,
)
from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.memory.knowledge import (
    KnowledgeStore,
    MemoryBlobStore,
    MemoryChunkIndex,
    MemoryKnowledgeRepository,
)
from kalamna.adapters.memory.mail import MemoryMailOutbox
from kalamna.adapters.memory.security import FixedClock, MemoryRateLimiter, MemoryRevocationStore
from kalamna.adapters.memory.store import MemoryUnitOfWork
from kalamna.adapters.memory.throttle import MemoryThrottle
from kalamna.adapters.memory.webhooks import MemoryWebhookEvents
from kalamna.adapters.memory.widget_gate import MemoryWidgetGate
from kalamna.config import Settings
from kalamna.ports.ai import Embedder
from kalamna.ports.analytics import AnalyticsRepository
from kalamna.ports.jobs import JobQueue
from kalamna.ports.knowledge import BlobStore, ChunkIndex, KnowledgeRepository
from kalamna.ports.mail import MailOutbox
from kalamna.ports.repositories import (
    ApiCredentialRepository,
    BotConfigRepository,
    EmployeeRepository,
    InvitationRepository,
    OneTimeTokenRepository,
    OrganizationRepository,
    RefreshSessionRepository,
    UnitOfWork,
)
from kalamna.ports.security import AttemptLimiter, Clock, RateLimiter, RevocationStore, Throttle
from kalamna.ports.webhooks import WebhookEvents
from kalamna.ports.widget import WidgetGate
from tests.graphs import app_container


class WordHashEmbedder:
    """A deterministic stand-in for the embedding model: each word adds to one of 64 dimensions.
    Texts sharing words are close; loading it is free (the real model takes seconds)."""

    model = "test-word-hash"
    dimensions = 64

    def __init__(self) -> None:
        self.passages: list[str] = []
        self.fail: Exception | None = None

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        if self.fail is not None:
            raise self.fail
        self.passages.extend(texts)
        return [self._vector(t) for t in texts]

    async def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


class InMemoryProvider(Provider):
    """The fakes. Stores, queue, clock and embedder are APP scope so a test can inspect them."""

    @provide(scope=Scope.APP)
    def identity_store(self) -> MemoryStore:
        return MemoryStore()

    @provide(scope=Scope.APP)
    def knowledge_store(self) -> KnowledgeStore:
        return KnowledgeStore()

    @provide(scope=Scope.APP)
    def memory_jobs(self) -> MemoryJobQueue:
        return MemoryJobQueue()

    @provide(scope=Scope.APP)
    def fixed_clock(self) -> FixedClock:
        return FixedClock()

    @provide(scope=Scope.APP)
    def word_hash_embedder(self) -> WordHashEmbedder:
        return WordHashEmbedder()

    @provide(scope=Scope.APP)
    def memory_revocations(self) -> MemoryRevocationStore:
        return MemoryRevocationStore()

    @provide(scope=Scope.APP)
    def memory_webhook_events(self) -> MemoryWebhookEvents:
        return MemoryWebhookEvents()

    @provide(scope=Scope.REQUEST, override=True)
    def webhook_events(self, events: MemoryWebhookEvents) -> WebhookEvents:
        return events

    @provide(scope=Scope.APP)
    def memory_outbox(self) -> MemoryMailOutbox:
        return MemoryMailOutbox()

    @provide(scope=Scope.APP)
    def memory_rate_limiter(self) -> MemoryRateLimiter:
        return MemoryRateLimiter()

    @provide(scope=Scope.APP, override=True)
    def rate_limiter(self, limiter: MemoryRateLimiter) -> RateLimiter:
        return limiter

    @provide(scope=Scope.APP, override=True)
    def attempt_limiter(self, limiter: MemoryRateLimiter) -> AttemptLimiter:
        return limiter

    @provide(scope=Scope.APP)
    def memory_throttle(self, clock: FixedClock) -> MemoryThrottle:
        return MemoryThrottle(lambda: clock.now().timestamp())

    @provide(scope=Scope.APP, override=True)
    def throttle(self, throttle: MemoryThrottle) -> Throttle:
        return throttle

    @provide(scope=Scope.APP, override=True)
    def widget_gate(self, limiter: MemoryRateLimiter, throttle: MemoryThrottle) -> WidgetGate:
        return MemoryWidgetGate(limiter, throttle)

    @provide(scope=Scope.REQUEST, override=True)
    def outbox(self, outbox: MemoryMailOutbox, _: MemoryUnitOfWork) -> MailOutbox:
        return outbox

    @provide(scope=Scope.APP, override=True)
    def jobs(self, queue: MemoryJobQueue) -> JobQueue:
        return queue

    @provide(scope=Scope.APP, override=True)
    def clock(self, clock: FixedClock) -> Clock:
        return clock

    @provide(scope=Scope.APP, override=True)
    def embedder(self, embedder: WordHashEmbedder) -> Embedder:
        return embedder

    @provide(scope=Scope.APP, override=True)
    def revocations(self, store: MemoryRevocationStore) -> RevocationStore:
        return store

    @provide(scope=Scope.APP, override=True)
    def blobs(self, store: KnowledgeStore) -> BlobStore:
        return MemoryBlobStore(store)

    @provide(scope=Scope.APP)
    def chat_store(self) -> ChatStore:
        return ChatStore()

    @provide(scope=Scope.REQUEST)
    async def transaction(
        self, identity: MemoryStore, knowledge: KnowledgeStore, chats: ChatStore, outbox: MemoryMailOutbox
    ) -> AsyncIterator[MemoryUnitOfWork]:
        """The request's "session", used by every repository: like the database session's
        finalizer, it rolls back whatever the request did not commit."""
        uow = MemoryUnitOfWork(identity, knowledge, chats, outbox)
        yield uow
        await uow.rollback()

    @provide(scope=Scope.REQUEST, override=True)
    def unit_of_work(self, transaction: MemoryUnitOfWork) -> UnitOfWork:
        return transaction

    @provide(scope=Scope.REQUEST, override=True)
    def organizations(self, store: MemoryStore, _: MemoryUnitOfWork) -> OrganizationRepository:
        return MemoryOrganizationRepository(store)

    @provide(scope=Scope.REQUEST, override=True)
    def employees(self, store: MemoryStore, _: MemoryUnitOfWork) -> EmployeeRepository:
        return MemoryEmployeeRepository(store)

    @provide(scope=Scope.REQUEST, override=True)
    def one_time_tokens(self, store: MemoryStore, _: MemoryUnitOfWork) -> OneTimeTokenRepository:
        return MemoryOneTimeTokenRepository(store)

    @provide(scope=Scope.REQUEST, override=True)
    def refresh_sessions(self, store: MemoryStore, _: MemoryUnitOfWork) -> RefreshSessionRepository:
        return MemoryRefreshSessionRepository(store)

    @provide(scope=Scope.REQUEST, override=True)
    def bot_configs(self, store: MemoryStore, _: MemoryUnitOfWork) -> BotConfigRepository:
        return MemoryBotConfigRepository(store)

    @provide(scope=Scope.REQUEST, override=True)
    def invitations(self, store: MemoryStore, _: MemoryUnitOfWork) -> InvitationRepository:
        return MemoryInvitationRepository(store)

    @provide(scope=Scope.REQUEST, override=True)
    def api_credentials(self, store: MemoryStore, _: MemoryUnitOfWork) -> ApiCredentialRepository:
        return MemoryApiCredentialRepository(store)

    @provide(scope=Scope.REQUEST, override=True)
    def knowledge(self, store: KnowledgeStore, _: MemoryUnitOfWork) -> KnowledgeRepository:
        return MemoryKnowledgeRepository(store)

    @provide(scope=Scope.REQUEST, override=True)
    def analytics(
        self, identity: MemoryStore, knowledge: KnowledgeStore, chats: ChatStore, _: MemoryUnitOfWork
    ) -> AnalyticsRepository:
        return MemoryAnalyticsRepository(identity, knowledge, chats)

    @provide(scope=Scope.REQUEST, override=True)
    def chunk_index(self, store: KnowledgeStore, _: MemoryUnitOfWork) -> ChunkIndex:
        return MemoryChunkIndex(store)


def unit_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings without any server: a use case that reaches PostgreSQL or Redis fails at once."""
    values: dict[str, Any] = {"jwt_secret": "unit-test-jwt-secret-" + "x" * 32, **overrides}
    return Settings(env="test", data_dir=data_dir, **values)


def memory_container(settings: Settings, *extra: Provider) -> AsyncContainer:
    """``kalamna.di.make_container`` with the in-memory adapters (``extra`` overrides them in turn).
    Without ``extra``, a fresh APP scope of a graph built once per process (``tests/graphs.py``)."""
    if extra:
        return kalamna.di.make_container(settings, InMemoryProvider(), *extra)
    return app_container(
        "memory", lambda: [*kalamna.di.providers(), InMemoryProvider()], {Settings: settings}
    )
