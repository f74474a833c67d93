"""Throwaway Redis servers that the reliability tests crash, wipe and restart (never the session's).
Their PostgreSQL twins, ``own_postgres`` and ``bare_postgres``, are in ``tests/conftest.py``."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import psutil
import pytest

from kalamna.embedded import EmbeddedRedis, process_exited


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("r"))
    server.start()
    yield server
    server.release()


def kill_redis(server: EmbeddedRedis) -> None:
    """kill -9: no shutdown save, no final fsync."""
    pid = server._server_pid()
    assert pid is not None
    process = psutil.Process(pid)
    os.kill(pid, signal.SIGKILL)
    assert process_exited(process, timeout=10)


@pytest.fixture
def jobs():  # type: ignore[no-untyped-def]
    from tests.api.conftest import RecordingJobs

    return RecordingJobs()
