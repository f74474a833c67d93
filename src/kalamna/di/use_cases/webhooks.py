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
)
from kalamna.ports.webhooks import DetachedWebhookEvents, WebhookEvents


class WebhookUseCaseProvider(Provider):
    scope = Scope.REQUEST

    detached_publisher = provide(PublishInOwnTransaction, provides=DetachedWebhookEvents, scope=Scope.APP)
    publisher = provide(PublishWebhookEvent, provides=WebhookEvents)

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
