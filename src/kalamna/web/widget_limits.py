"""Widget request budgets: each client IP has its own share under a larger ceiling for the whole API
key, so one anonymous client cannot spend every visitor's budget."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request

from kalamna.config import Settings
from kalamna.ports.security import RateLimiter
from kalamna.web.security import TrustedProxies, client_ip, consume, settings_limit


async def widget_budget(
    request: Request[Any, Any, Any], limiter: RateLimiter, settings: Settings, organization_id: UUID
) -> dict[str, str]:
    """Count one widget request per (key, client IP), then per key; 429 when either is spent.
    The headers returned describe the client's own share."""
    ip = client_ip(request, TrustedProxies(settings.trusted_proxies))
    headers = await consume(
        limiter, f"widget-client:{organization_id}:{ip}", settings_limit(settings, "widget_client_requests")
    )
    await consume(limiter, f"widget-key:{organization_id}", settings_limit(settings, "widget_key_requests"))
    return headers
