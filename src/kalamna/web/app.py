"""Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from dishka import AsyncContainer, Provider
from dishka.integrations.litestar import LitestarProvider, make_add_request_container_middleware
from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.types import ControllerRouterHandler

from kalamna import __version__
from kalamna.config import Settings
from kalamna.di import make_container, prepare
from kalamna.web import openapi_contract
from kalamna.web.admin_queues import admin_queues
from kalamna.web.controllers.analytics import ANALYTICS_HANDLERS
from kalamna.web.controllers.auth import AuthController
from kalamna.web.controllers.conversations import ConversationController
from kalamna.web.controllers.health import health
from kalamna.web.controllers.internal import GenerateController, InternalController
from kalamna.web.controllers.knowledge import KnowledgeController
from kalamna.web.controllers.organizations import OrganizationController
from kalamna.web.controllers.pages import page_handlers, swagger_plugin
from kalamna.web.controllers.team import TeamController
from kalamna.web.controllers.widget import WidgetController
from kalamna.web.cors import cors_middleware
from kalamna.web.errors import EXCEPTION_HANDLERS
from kalamna.web.input_guard import input_guard_middleware, normalise_path_middleware
from kalamna.web.lifecycle import drain_lifespan
from kalamna.web.metrics import metrics_handler, metrics_middleware
from kalamna.web.middleware import request_id_middleware
from kalamna.web.options import allow_map, options_middleware
from kalamna.web.security import WebProvider
from kalamna.worker.runner import in_process_worker

API_PREFIX = "/api/v1"


class _OwnRouter(Router):
    """A router made for one app. Litestar deep-copies every router it registers, so that one router
    may be mounted twice; ours is built afresh by each ``build_app``, and copying it (every handler
    with its signature model) was a third of the cost of building the app."""

    def __deepcopy__(self, memo: dict[int, object]) -> _OwnRouter:
        return self


def web_providers() -> list[Provider]:
    """The providers that read the HTTP request, added to the application's by ``web_container``."""
    return [LitestarProvider(), WebProvider()]


def web_container(settings: Settings, *extra: Provider) -> AsyncContainer:
    """The application container plus the providers that read the HTTP request."""
    return make_container(settings, *web_providers(), *extra)


def integration_handlers() -> list[ControllerRouterHandler]:
    from kalamna.web.controllers.analytics_export import analytics_export
    from kalamna.web.controllers.webhooks import WebhookController
    from kalamna.web.metrics import metrics_handler

    return [WebhookController, analytics_export, metrics_handler(in_schema=True)]


def api_handlers() -> list[ControllerRouterHandler]:
    return [
        health,
        AuthController,
        OrganizationController,
        TeamController,
        KnowledgeController,
        InternalController,
        GenerateController,
        WidgetController,
        ConversationController,
        *ANALYTICS_HANDLERS,
        *integration_handlers(),
    ]


def create_app(
    settings: Settings,
    container: AsyncContainer,
    *,
    extra_handlers: Sequence[ControllerRouterHandler] = (),
    run_worker: bool = False,
    top_level_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """Build the app around a ready container; the app closes the container on shutdown.

    ``run_worker`` runs a SAQ worker inside the API process (``kalamna dev``); ``top_level_handlers``
    are served outside ``/api/v1`` (the ``/demo`` page of ``kalamna dev``).
    """
    app = build_app(
        settings,
        extra_handlers=extra_handlers,
        run_worker=run_worker,
        top_level_handlers=top_level_handlers,
    )
    bind_container(app, container)
    return app


def bind_container(app: Litestar, container: AsyncContainer) -> None:
    """Serve ``app`` from ``container``: every request scope, the lifespan and the queue UI read it
    from ``app.state``. An app is bound to one container per lifespan (the lifespan closes it)."""
    app.state.dishka_container = container


def build_app(
    settings: Settings,
    *,
    extra_handlers: Sequence[ControllerRouterHandler] = (),
    run_worker: bool = False,
    top_level_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """The routes, middlewares and lifespan, without services: ``bind_container`` supplies them.

    Of the settings, only the dashboard origins (CORS) and those of the in-process worker are read
    here; everything else reaches the handlers through the container. The test suite builds one
    app per process and binds a fresh container to it for every test.
    """

    @asynccontextmanager
    async def close_container(app: Litestar) -> AsyncIterator[None]:
        container: AsyncContainer = app.state.dishka_container
        try:
            await prepare(container)
            if run_worker:
                async with in_process_worker(settings, container):
                    yield
            else:
                yield
        finally:
            await container.close()

    api = _OwnRouter(path=API_PREFIX, route_handlers=[*api_handlers(), *extra_handlers])
    app = Litestar(
        route_handlers=[
            api,
            admin_queues,
            metrics_handler(in_schema=False),
            *page_handlers(),
            *top_level_handlers,
        ],
        lifespan=[close_container, drain_lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Kalamna API",
            version=__version__,
            path="/schema",
            render_plugins=[swagger_plugin()],
        ),
        debug=False,
        logging_config=None,  # kalamna.observability owns logging
    )
    openapi_contract.install(app)
    # Outermost, so that unmatched routes (404/405) get a request id, CORS headers and a log line too.
    # The path is normalised before CORS and routing see it; bad input is refused inside CORS (so a
    # browser can read the 422) but before any handler. Each request's container scope is opened
    # (from the bound container) inside all of them, right around the router.
    scoped = make_add_request_container_middleware(app.asgi_handler)
    routed = options_middleware(scoped, allow_map(app.routes))
    guarded = cors_middleware(input_guard_middleware(routed), settings.cors_allow_origins)
    app.asgi_handler = request_id_middleware(normalise_path_middleware(metrics_middleware(guarded)))
    return app
