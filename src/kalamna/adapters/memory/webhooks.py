"""In-memory webhook events for unit tests: what the use cases published, in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from kalamna.domain.webhooks import WebhookEvent


@dataclass
class MemoryWebhookEvents:
    published: list[tuple[UUID, WebhookEvent, dict[str, Any]]] = field(default_factory=list)

    async def publish(self, organization_id: UUID, event: WebhookEvent, data: Mapping[str, Any]) -> None:
        self.published.append((organization_id, event, dict(data)))
