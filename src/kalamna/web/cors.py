"""CORS as one ASGI middleware, for two audiences.

- Dashboard routes: origins from ``KALAMNA_CORS_ALLOW_ORIGINS``.
- Widget routes (``/api/v1/chat/*``): the organization's ``widget.allowed_origins`` (empty = any). The
  organization is known only once the API key is checked, so the widget controller records its
  verdict in the request state and this middleware adds ``Access-Control-Allow-Origin`` only when the
  verdict allows it. A preflight carries no API key (browsers never send custom headers there), so
  widget preflights are answered for any origin; the actual request is what is checked: its
  response gets ``Access-Control-Allow-Origin`` only for an allowed origin, and a cross-origin write
  from a disallowed origin is refused (403) before it changes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

WIDGET_PREFIX = "/api/v1/chat"
ALLOW_HEADERS = b"authorization, content-type, accept, x-api-key, x-session-token, x-request-id"
EXPOSE_HEADERS = b"x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after"
METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
STATE_KEY = "widget_cors_origin"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def cors_middleware(app: ASGIApp, dashboard_origins: Sequence[str]) -> ASGIApp:
    allow_any = "*" in dashboard_origins
    allowed = set(dashboard_origins)

    def dashboard_allows(origin: str) -> bool:
        return allow_any or origin in allowed

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        path: str = scope["path"]
        widget = path.startswith(WIDGET_PREFIX)
        if origin and scope.get("method") == "OPTIONS" and _header(scope, b"access-control-request-method"):
            allow = not widget and dashboard_allows(origin)
            headers = [
                (b"access-control-allow-methods", METHODS),
                (b"access-control-allow-headers", ALLOW_HEADERS),
                (b"access-control-max-age", b"600"),
                (b"vary", b"Origin"),
            ]
            if widget:
                headers = [(b"access-control-allow-methods", b"GET, POST, OPTIONS"), *headers[1:]]
                allow = True  # the actual request decides; see the module docstring
            if allow:
                headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
            start: Any = {"type": "http.response.start", "status": 204, "headers": headers}
            await send(start)
            end: Any = {"type": "http.response.body", "body": b""}
            await send(end)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and origin:
                headers = list(message.get("headers", []))
                headers.append((b"vary", b"Origin"))
                state: dict[str, Any] = scope.get("state", {})
                ok = state.get(STATE_KEY) == origin if widget else dashboard_allows(origin)
                if ok:
                    headers.append((b"access-control-allow-origin", origin.encode("latin-1")))
                    headers.append((b"access-control-expose-headers", EXPOSE_HEADERS))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_cors)

    return middleware
