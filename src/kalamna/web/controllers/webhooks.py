"""Section 12 of the contract: webhooks (owner)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Response, delete, get, post
from litestar.params import Body, FromPath

from kalamna.application.auth.principal import Principal
from kalamna.application.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    ListDeliveries,
    ListWebhooks,
    SendTestPing,
)
from kalamna.domain.webhooks import Delivery, Webhook
from kalamna.web.pagination import Limit, Offset, page_of
from kalamna.web.schemas import ListOut, schema_name


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    events: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=20)]
    description: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class WebhookOut(msgspec.Struct):
    id: UUID
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookOut:
        return cls(
            id=webhook.id,
            url=webhook.url,
            events=[e.value for e in webhook.events],
            description=webhook.description,
            active=webhook.active,
            created_at=webhook.created_at,
        )


WebhookPage = Annotated[ListOut[WebhookOut], schema_name("WebhookPage")]


class CreatedWebhookOut(WebhookOut):
    secret: str = ""


class DeliveryOut(msgspec.Struct):
    id: UUID
    event: str
    status: str
    attempts: int
    response_status: int | None
    error: str | None
    created_at: datetime
    last_attempt_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            event=delivery.event.value,
            status=delivery.status.value,
            attempts=delivery.attempts,
            response_status=delivery.response_status,
            error=delivery.error,
            created_at=delivery.created_at,
            last_attempt_at=delivery.last_attempt_at,
        )


DeliveryPage = Annotated[ListOut[DeliveryOut], schema_name("DeliveryPage")]


class PingOut(msgspec.Struct):
    delivery_id: UUID
    detail: str


class WebhookController(Controller):
    path = "/orgs/{org_id:uuid}/webhooks"
    tags = ["webhooks"]

    @get("/", summary="Webhooks of the organization (owner)")
    @inject
    async def list_webhooks(
        self,
        org_id: FromPath[UUID],
        principal: FromDishka[Principal],
        list_webhooks: FromDishka[ListWebhooks],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> WebhookPage:
        page = await list_webhooks(principal, org_id, page_of(limit, offset))
        return ListOut([WebhookOut.of(w) for w in page.items], page.total, page.limit, page.offset)

    @post(
        "/",
        status_code=201,
        summary="Add a webhook (owner); the signing secret is shown only in this answer",
        description="The URL must be http(s) and, unless private targets are allowed by the settings, "
        "resolve only to public addresses (422 otherwise).",
    )
    @inject
    async def create_webhook(
        self,
        org_id: FromPath[UUID],
        data: Annotated[WebhookIn, Body()],
        principal: FromDishka[Principal],
        create: FromDishka[CreateWebhook],
    ) -> CreatedWebhookOut:
        created = await create(principal, org_id, data.url, data.events, data.description)
        out = WebhookOut.of(created.webhook)
        return CreatedWebhookOut(**msgspec.structs.asdict(out), secret=created.secret)

    @delete("/{webhook_id:uuid}", status_code=204, summary="Remove a webhook and its delivery log (owner)")
    @inject
    async def delete_webhook(
        self,
        org_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        principal: FromDishka[Principal],
        remove: FromDishka[DeleteWebhook],
    ) -> None:
        await remove(principal, org_id, webhook_id)

    @get("/{webhook_id:uuid}/deliveries", summary="The webhook's delivery log, newest first (owner)")
    @inject
    async def list_deliveries(
        self,
        org_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        principal: FromDishka[Principal],
        list_deliveries: FromDishka[ListDeliveries],
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> DeliveryPage:
        page = await list_deliveries(principal, org_id, webhook_id, page_of(limit, offset))
        return ListOut([DeliveryOut.of(d) for d in page.items], page.total, page.limit, page.offset)

    @post("/{webhook_id:uuid}/test", status_code=202, summary="Send a ping event (owner)")
    @inject
    async def send_test(
        self,
        org_id: FromPath[UUID],
        webhook_id: FromPath[UUID],
        principal: FromDishka[Principal],
        ping: FromDishka[SendTestPing],
    ) -> Response[PingOut]:
        delivery = await ping(principal, org_id, webhook_id)
        return Response(PingOut(delivery.id, "A ping event is on its way."), status_code=202)
