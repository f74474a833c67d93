"""Dishka providers for integrations and operations: webhooks (ports → adapters, use cases) and metrics.

Registered by ``di.providers()``. Use cases that emit webhook events take ``WebhookEvents | None``
(None in unit tests that build them by hand); the provider below supplies the real publisher.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, decorate, provide, provide_all
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kalamna.adapters.metered import (
    MeteredChatModel,
    MeteredChatRepository,
    MeteredChatTransactions,
    MeteredEmbedder,
)
from kalamna.adapters.metrics_sources import HandoversWaiting, QueueDepth
from kalamna.adapters.postgres.repositories.webhooks import SqlaWebhookRepository, SqlaWebhookTransactions
from kalamna.adapters.queue.webhook_scheduler import JobDeliveryScheduler
from kalamna.adapters.security.secret_box import AesGcmSecretBox
from kalamna.adapters.webhooks.http import HttpxWebhookSender, ResolvingTargetGuard
from kalamna.application.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    DeliverWebhook,
    ListDeliveries,
    ListWebhooks,
    PublishInOwnTransaction,
    PublishWebhookEvent,
    SendTestPing,
    SubscriptionCache,
)
from kalamna.config import Settings
from kalamna.domain.webhooks import RetrySchedule
from kalamna.metrics import ScrapeGauge, ScrapeGauges
from kalamna.ports.ai import ChatModel, Embedder
from kalamna.ports.chat import ChatRepository
from kalamna.ports.conversations import ChatTransactions
from kalamna.ports.jobs import JobQueue
from kalamna.ports.repositories import UnitOfWork
from kalamna.ports.security import Clock
from kalamna.ports.webhooks import (
    DeliveryScheduler,
    DetachedWebhookEvents,
    SecretBox,
    TargetGuard,
    WebhookEvents,
    WebhookRepository,
    WebhookSender,
    WebhookTransactions,
)


class WebhookProvider(Provider):
    @provide(scope=Scope.APP)
    def secret_box(self, settings: Settings) -> SecretBox:
        material = settings.webhook_encryption_key or settings.jwt_secret or settings.internal_token
        if not material:
            raise ValueError("KALAMNA_WEBHOOK_ENCRYPTION_KEY (or KALAMNA_JWT_SECRET) must be set")
        return AesGcmSecretBox(material)

    @provide(scope=Scope.APP)
    def target_guard(self, settings: Settings) -> TargetGuard:
        return ResolvingTargetGuard(allow_private=settings.webhooks_allow_private)

    @provide(scope=Scope.APP)
    async def sender(self, settings: Settings) -> AsyncIterator[WebhookSender]:
        sender = HttpxWebhookSender(
            timeout_s=settings.webhook_timeout_s, allow_private=settings.webhooks_allow_private
        )
        yield sender
        await sender.aclose()

    @provide(scope=Scope.APP)
    def retry_schedule(self, settings: Settings) -> RetrySchedule:
        return RetrySchedule(
            max_attempts=settings.webhook_max_attempts,
            base_s=settings.webhook_retry_base_s,
            factor=settings.webhook_retry_factor,
        )

    @provide(scope=Scope.APP)
    def scheduler(self, jobs: JobQueue) -> DeliveryScheduler:
        return JobDeliveryScheduler(jobs)

    @provide(scope=Scope.APP)
    def transactions(self, factory: async_sessionmaker[AsyncSession]) -> WebhookTransactions:
        return SqlaWebhookTransactions(factory)

    @provide(scope=Scope.APP)
    def detached_publisher(
        self,
        transactions: WebhookTransactions,
        scheduler: DeliveryScheduler,
        clock: Clock,
        subscriptions: SubscriptionCache,
    ) -> DetachedWebhookEvents:
        return PublishInOwnTransaction(transactions, scheduler, clock, subscriptions)

    repository = provide(SqlaWebhookRepository, provides=WebhookRepository, scope=Scope.REQUEST)

    @provide(scope=Scope.REQUEST)
    def publisher(
        self,
        webhooks: WebhookRepository,
        scheduler: DeliveryScheduler,
        uow: UnitOfWork,
        clock: Clock,
        subscriptions: SubscriptionCache,
    ) -> WebhookEvents:
        return PublishWebhookEvent(webhooks, scheduler, uow, clock, subscriptions)

    @provide(scope=Scope.REQUEST)
    def optional_events(self, events: WebhookEvents) -> WebhookEvents | None:
        return events

    use_cases = provide_all(
        CreateWebhook,
        ListWebhooks,
        DeleteWebhook,
        ListDeliveries,
        SendTestPing,
        DeliverWebhook,
        scope=Scope.REQUEST,
    )


class MetricsProvider(Provider):
    """Instruments the AI ports and the chat repository, and lists the scrape-time gauges."""

    @decorate
    def metered_chat_model(self, model: ChatModel) -> ChatModel:
        return MeteredChatModel(model)

    @decorate
    def metered_embedder(self, embedder: Embedder) -> Embedder:
        return MeteredEmbedder(embedder)

    @decorate
    def metered_chats(self, chats: ChatRepository) -> ChatRepository:
        return MeteredChatRepository(chats)

    @decorate
    def metered_chat_transactions(self, transactions: ChatTransactions) -> ChatTransactions:
        return MeteredChatTransactions(transactions)

    @provide(scope=Scope.APP)
    def scrape_gauges(self, engine: AsyncEngine, queue: Queue) -> ScrapeGauges:
        return ScrapeGauges(
            [
                ScrapeGauge(
                    "kalamna_queue_jobs",
                    "Jobs in the queue by state (queued, active).",
                    ("state",),
                    QueueDepth(queue),
                ),
                ScrapeGauge(
                    "kalamna_handovers_waiting",
                    "Open conversations waiting for a person.",
                    (),
                    HandoversWaiting(engine),
                ),
            ]
        )
