"""Webhook ports: events emitted by use cases, storage, the secret box, the target guard and the sender."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from kalamna.domain.pages import Page, PageRequest
from kalamna.domain.webhooks import AttemptResult, Delivery, Webhook, WebhookEvent
from kalamna.ports.repositories import UnitOfWork


class WebhookEvents(Protocol):
    """What use cases call after they commit a change that outsiders may care about.

    ``data`` holds JSON-safe values (str, int, float, bool, None, lists, dicts; UUIDs and datetimes
    are written as strings). Publishing never raises: a failure is logged and the caller's work
    stands.
    """

    async def publish(self, organization_id: UUID, event: WebhookEvent, data: Mapping[str, Any]) -> None: ...


class DetachedWebhookEvents(WebhookEvents, Protocol):
    """``WebhookEvents`` for work that outlives a request (a bot reply running in a task of its own):
    each ``publish`` opens and ends a transaction of its own, so one instance serves the whole app."""


class WebhookRepository(Protocol):
    async def add(self, webhook: Webhook) -> None: ...

    async def get(self, organization_id: UUID, webhook_id: UUID) -> Webhook | None: ...

    async def list_page(self, organization_id: UUID, page: PageRequest) -> Page[Webhook]: ...

    async def delete(self, organization_id: UUID, webhook_id: UUID) -> bool: ...

    async def subscribed(self, organization_id: UUID, event: WebhookEvent) -> list[Webhook]: ...

    async def add_delivery(self, delivery: Delivery) -> None: ...

    async def get_delivery(self, delivery_id: UUID) -> Delivery | None: ...

    async def save_delivery(self, delivery: Delivery) -> None: ...

    async def overdue_deliveries(self, due_before: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries whose next attempt was due before ``due_before``, oldest first."""
        ...

    async def list_deliveries(
        self, organization_id: UUID, webhook_id: UUID, page: PageRequest
    ) -> Page[Delivery]: ...


class WebhookTransaction(Protocol):
    @property
    def webhooks(self) -> WebhookRepository: ...

    @property
    def uow(self) -> UnitOfWork: ...


class WebhookTransactions(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[WebhookTransaction]:
        """A new transaction; it is rolled back on exit unless committed through ``uow``."""
        ...


class SecretBox(Protocol):
    """Authenticated encryption of webhook secrets at rest; ``context`` binds a ciphertext to its row."""

    def seal(self, plaintext: str, context: str) -> str: ...

    def open(self, sealed: str, context: str) -> str:
        """Raises ``ValueError`` when the ciphertext or the key is wrong."""
        ...


class TargetGuard(Protocol):
    async def check(self, url: str) -> None:
        """Raise ``InvalidInput`` when the URL's host does not resolve or resolves to a forbidden address."""
        ...


class WebhookSender(Protocol):
    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> AttemptResult:
        """POST once: resolve, check the address again, connect to that address, no redirects,
        read at most 64 KiB of the answer. Never raises for network trouble."""
        ...


class DeliveryScheduler(Protocol):
    async def schedule(self, delivery_id: UUID, attempt: int, delay_s: float) -> None: ...
