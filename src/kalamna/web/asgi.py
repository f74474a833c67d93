"""ASGI entry point for ``kalamna serve`` (uvicorn imports it in each worker process)."""

from __future__ import annotations

from litestar import Litestar

from kalamna.config import load_settings
from kalamna.embedded import resolve_services
from kalamna.observability import configure_logging
from kalamna.web.app import create_app, web_container


def app_factory() -> Litestar:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    settings, _services = resolve_services(settings)
    return create_app(settings, web_container(settings))
