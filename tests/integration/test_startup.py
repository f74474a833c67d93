"""Start-up with the garbage collector paused (kalamna.startup), and ``kalamna serve``'s app factory."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar

from kalamna.startup import pause_collector, resume_collector_after_startup
from tests.conftest import Services


@pytest.fixture
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        else:
            gc.disable()


def test_paused_then_resumed_with_what_startup_built_frozen(collector_restored: None) -> None:
    frozen = gc.get_freeze_count()
    pause_collector()
    assert not gc.isenabled()
    built = [[index] for index in range(1000)]  # tracked containers, made while paused
    resume_collector_after_startup()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(built)
    assert gc.is_tracked(built[0])  # set aside (frozen), still alive


def test_serve_app_factory_builds_the_app_and_resumes_the_collector(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_restored: None
) -> None:
    from kalamna.web.asgi import app_factory

    monkeypatch.chdir(tmp_path)  # no .env file from the checkout
    monkeypatch.setenv("KALAMNA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KALAMNA_DATABASE_URL", services.database_url)
    monkeypatch.setenv("KALAMNA_REDIS_URL", services.redis_url)
    frozen = gc.get_freeze_count()
    gc.disable()  # as `kalamna serve` leaves it before uvicorn calls the factory
    app = app_factory()
    assert isinstance(app, Litestar)
    assert any(route.path == "/api/v1/health" for route in app.routes)
    assert gc.isenabled()
    assert gc.get_freeze_count() > frozen
