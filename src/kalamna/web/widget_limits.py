"""Widget request budgets: each client IP has its own share under a larger ceiling for the whole API
key, so one anonymous client cannot spend every visitor's budget."""

from __future__ import annotations

from typing import Any

from litestar import Request

from kalamna.application.chat.sessions import ORGANIZATION
from kalamna.config import Settings
from kalamna.ports.widget import Budget
from kalamna.web.security import TrustedProxies, client_ip, settings_limit


def widget_budgets(request: Request[Any, Any, Any], settings: Settings) -> list[Budget]:
    """One widget request per (key, client IP), then per key; 429 when either is spent. The first
    budget's figures are the ones the response's headers describe (the client's own share)."""
    ip = client_ip(request, TrustedProxies(settings.trusted_proxies))
    client = settings_limit(settings, "widget_client_requests")
    key = settings_limit(settings, "widget_key_requests")
    return [
        Budget(f"widget-client:{ORGANIZATION}:{ip}", client.count, client.window_s),
        Budget(f"widget-key:{ORGANIZATION}", key.count, key.window_s),
    ]
