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


def test_serve_resumes_the_collector_before_uvicorn_starts_its_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_restored: None
) -> None:
    """With several workers, `kalamna serve`'s own process only supervises them, for as long as they
    run: it must not be left with the collector paused."""
    import uvicorn

    from kalamna import cli

    seen: dict[str, object] = {}

    def run(app: str, **options: object) -> None:
        seen.update(app=app, workers=options["workers"], collector_enabled=gc.isenabled())

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(cli, "configure_logging", lambda *args: None)  # leave the test's logging alone
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KALAMNA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KALAMNA_PORT", "8000")  # restored afterwards: the command sets it for its workers
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    gc.disable()  # as `kalamna` starts every command (cli.main)
    args = cli.build_parser().parse_args(["serve", "--workers", "2", "--port", "8123"])
    assert cli.cmd_serve(args) == 0
    assert seen == {"app": "kalamna.web.asgi:app_factory", "workers": 2, "collector_enabled": True}
