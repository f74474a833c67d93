"""Webhooks: their CRUD, one delivery attempt per job, and the event publisher behind ``WebhookEvents``.

Use cases that emit webhook events take ``WebhookEvents | None`` (None in unit tests that build them by
hand); both are provided here, by the real publisher.
"""

from __future__ import annotations

from dishka import Provider, Scope, provide, provide_all

from kalamna.application.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    DeliverWebhook,
    ListDeliveries,
    ListWebhooks,
    PublishInOwnTransaction,
    PublishWebhookEvent,
    RequeueOverdueDeliveries,
    SendTestPing,
    SubscriptionCache,
)
from kalamna.ports.repositories import UnitOfWork
from kalamna.ports.security import Clock
from kalamna.ports.webhooks import (
    DeliveryScheduler,
    DetachedWebhookEvents,
    WebhookEvents,
    WebhookRepository,
    WebhookTransactions,
)


class WebhookUseCaseProvider(Provider):
    scope = Scope.REQUEST

    @provide(scope=Scope.APP)
    def detached_publisher(
        self,
        transactions: WebhookTransactions,
        scheduler: DeliveryScheduler,
        clock: Clock,
        subscriptions: SubscriptionCache,
    ) -> DetachedWebhookEvents:
        return PublishInOwnTransaction(transactions, scheduler, clock, subscriptions)

    @provide
    def publisher(
        self,
        webhooks: WebhookRepository,
        scheduler: DeliveryScheduler,
        uow: UnitOfWork,
        clock: Clock,
        subscriptions: SubscriptionCache,
    ) -> WebhookEvents:
        return PublishWebhookEvent(webhooks, scheduler, uow, clock, subscriptions)

    @provide
    def optional_events(self, events: WebhookEvents) -> WebhookEvents | None:
        return events

    use_cases = provide_all(
        CreateWebhook,
        ListWebhooks,
        DeleteWebhook,
        ListDeliveries,
        SendTestPing,
        DeliverWebhook,
        RequeueOverdueDeliveries,
    )
