"""``GET /metrics`` (Prometheus text format) and the request-metrics ASGI middleware.

Access: ``Authorization: Bearer <KALAMNA_METRICS_TOKEN>``. With no token configured the endpoint is
open outside production and refused (401) in production. Served at ``/metrics`` (where Prometheus
looks by default) and at ``/api/v1/metrics``.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from kalamna import metrics
from kalamna.config import Settings
from kalamna.domain.errors import NotAuthenticated
from kalamna.metrics import ScrapeGauges


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Counts and times every HTTP request by method, route template and status."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_status)
        finally:
            route = str(scope.get("path_template") or "<unmatched>")
            labels = (str(scope.get("method", "")), route, str(status))
            metrics.HTTP_REQUESTS.labels(*labels).inc()
            metrics.HTTP_DURATION.labels(*labels).observe(time.perf_counter() - started)

    return middleware


def _check_token(settings: Settings, request: Request[Any, Any, Any]) -> None:
    expected = settings.metrics_token or ""
    if not expected:
        if settings.env == "production":
            raise NotAuthenticated("Metrics are disabled: KALAMNA_METRICS_TOKEN is not set.")
        return
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise NotAuthenticated("A valid metrics token is required.")


async def _metrics(
    request: Request[Any, Any, Any], settings: FromDishka[Settings], gauges: FromDishka[ScrapeGauges]
) -> Response[bytes]:
    _check_token(settings, request)
    body = await metrics.render(gauges)
    return Response(body, media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def metrics_handler(*, in_schema: bool) -> HTTPRouteHandler:
    """A ``GET /metrics`` handler (one per router it is mounted on)."""
    return get(
        "/metrics",
        summary="Prometheus metrics",
        description="Text format; Bearer KALAMNA_METRICS_TOKEN (open outside production if unset).",
        tags=["operations"],
        include_in_schema=in_schema,
        media_type=metrics.CONTENT_TYPE,
        name=f"metrics-{'api' if in_schema else 'root'}",
    )(inject(_metrics))
