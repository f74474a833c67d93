"""Throwaway servers that the reliability tests crash, wipe and restart (never the session's)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from kalamna.embedded import EmbeddedPostgres, EmbeddedRedis


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("r"))
    server.start()
    yield server
    server.release()


@pytest.fixture
def own_postgres(bare_postgres: EmbeddedPostgres) -> EmbeddedPostgres:
    from kalamna.adapters.postgres.migrations import upgrade_to_head

    upgrade_to_head(bare_postgres.url)
    return bare_postgres


@pytest.fixture
def bare_postgres() -> Iterator[EmbeddedPostgres]:
    """A throwaway server whose database was never migrated."""
    # Not under pytest's tmp dir: when run as root, the server runs as a system user that must
    # be able to reach its data directory.
    root = Path(tempfile.mkdtemp(prefix="klm-p-"))
    server = EmbeddedPostgres(root / "pg")
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):  # a test may have left it stopped
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def kill_redis(server: EmbeddedRedis) -> None:
    """kill -9: no shutdown save, no final fsync."""
    pid = server._server_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and psutil.pid_exists(pid):
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)


@pytest.fixture
def jobs():  # type: ignore[no-untyped-def]
    from tests.api.conftest import RecordingJobs

    return RecordingJobs()
