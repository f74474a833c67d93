"""Dishka wiring: ports bound to adapters according to settings, and the use cases built on them.

One module per layer, so a provider sits beside the code it wires:

- ``infrastructure``  settings, database engine and sessions, Redis, the job queue, the clock and the
  security primitives (password hasher, access tokens, random secrets)
- ``repositories``    PostgreSQL: unit of work, repositories, chunk index, mail outbox, transactions
- ``adapters``        every other port → adapter: Redis caches and events, mailer, AI models,
  document processing, webhook I/O
- ``policies``        policies, limits and typed settings of the use cases, read from ``Settings``
- ``use_cases/``      the application's use cases, one module per capability
- ``instrumentation`` metrics decorators of ports (registered last) and scrape-time gauges
- ``startup``         ``prepare()``: start-up work that needs live services

APP scope holds engines, pools, clients and stateless services; REQUEST scope (one request or one job)
holds the database session, the repositories and the use cases.
"""

from __future__ import annotations

from dishka import AsyncContainer, Provider, make_async_container
from dishka.entities.validation_settings import ValidationSettings

from kalamna.config import Settings
from kalamna.di.adapters import (
    CacheProvider,
    DocumentProvider,
    MailerProvider,
    ModelProvider,
    WebhookDeliveryProvider,
)
from kalamna.di.infrastructure import InfrastructureProvider, SecurityPrimitivesProvider
from kalamna.di.instrumentation import MetricsProvider
from kalamna.di.policies import PolicyProvider
from kalamna.di.repositories import RepositoryProvider, TransactionProvider
from kalamna.di.startup import prepare
from kalamna.di.use_cases.accounts import (
    AuthUseCaseProvider,
    MailUseCaseProvider,
    OrganizationUseCaseProvider,
)
from kalamna.di.use_cases.chat import ChatUseCaseProvider
from kalamna.di.use_cases.conversations import ConversationUseCaseProvider
from kalamna.di.use_cases.knowledge import KnowledgeUseCaseProvider
from kalamna.di.use_cases.operations import AnalyticsUseCaseProvider, HealthProvider
from kalamna.di.use_cases.webhooks import WebhookUseCaseProvider
from kalamna.di.widget import WidgetProvider

__all__ = ["OVERRIDES_CHECKED", "make_container", "prepare", "providers"]

OVERRIDES_CHECKED = ValidationSettings(
    nothing_overridden=True,  # ``override=True`` replacing nothing: NothingOverriddenError
    implicit_override=True,  # a 2nd factory without ``override=True``: ImplicitOverrideDetectedError
    nothing_decorated=True,  # a ``@decorate`` wrapping nothing: an error too
)
"""Every replacement is declared, and every declared replacement replaces something; both errors name
the type. An override left behind by a renamed or removed provider fails when the container is built,
instead of silently adding a factory that nothing uses (and testing production's adapter instead)."""


def providers() -> list[Provider]:
    """The production providers. Each type has exactly one factory among them (``OVERRIDES_CHECKED``
    enforces it), so their order matters only for the decorators: ``MetricsProvider`` comes last."""
    return [
        InfrastructureProvider(),
        SecurityPrimitivesProvider(),
        RepositoryProvider(),
        TransactionProvider(),
        CacheProvider(),
        MailerProvider(),
        ModelProvider(),
        DocumentProvider(),
        WebhookDeliveryProvider(),
        PolicyProvider(),
        AuthUseCaseProvider(),
        MailUseCaseProvider(),
        OrganizationUseCaseProvider(),
        KnowledgeUseCaseProvider(),
        ChatUseCaseProvider(),
        ConversationUseCaseProvider(),
        WebhookUseCaseProvider(),
        AnalyticsUseCaseProvider(),
        HealthProvider(),
        WidgetProvider(),
        MetricsProvider(),  # last: its decorators wrap ports provided above (see di/instrumentation.py)
    ]


def make_container(settings: Settings, *extra: Provider) -> AsyncContainer:
    """Build the container. ``extra`` providers (the Litestar request provider, test fakes) come after
    the production ones: a factory among them that replaces a production one must be declared
    ``override=True``, and must replace something (``OVERRIDES_CHECKED``)."""
    return make_async_container(
        *providers(), *extra, context={Settings: settings}, validation_settings=OVERRIDES_CHECKED
    )
