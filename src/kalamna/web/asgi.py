"""ASGI entry point for ``kalamna serve`` (uvicorn imports it in each worker process)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kalamna.startup import pause_collector, resume_collector_after_startup

if TYPE_CHECKING:
    from litestar import Litestar


def app_factory() -> Litestar:
    # The app is imported here, not at the top: a worker process that uvicorn spawns loads it with
    # the garbage collector paused too (kalamna.startup).
    pause_collector()
    from kalamna.config import load_settings
    from kalamna.embedded import resolve_services
    from kalamna.observability import configure_logging
    from kalamna.web.app import create_app, web_container

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    settings, _services = resolve_services(settings)
    app = create_app(settings, web_container(settings))
    resume_collector_after_startup()
    return app
