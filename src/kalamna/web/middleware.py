"""Request id and access log as one plain ASGI middleware (cheap on the hot path).

Every response carries ``X-Request-ID`` (the caller's, when it is a sane token, else a new one);
one log line per request gives id, method, route template, status and duration. Query strings
are never logged: they may carry tokens.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("kalamna.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def _tenant(scope: Scope) -> str | None:
    """The organization the request acted on: the URL's ``org_id``, else the signed-in caller's
    organization (set when the token was checked); None when neither is known."""
    org = (scope.get("path_params") or {}).get("org_id")
    if org is not None:
        return str(org)
    state: Any = scope.get("state") or {}
    tenant = state.get("tenant_id")
    return str(tenant) if tenant is not None else None


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            route: Any = scope.get("path_template") or "<unmatched>"
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "route": route,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "tenant_id": _tenant(scope),
                },
            )

    return middleware
