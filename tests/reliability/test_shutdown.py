"""Issue 16, item 4: SIGTERM stops ``kalamna`` exactly like Ctrl-C, and an idle worker stops at once.

Real processes: ``kalamna dev`` with its own data directory (its own embedded PostgreSQL and
Redis), and ``kalamna worker`` against the session's servers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow

IDLE_WORKER_STOP_LIMIT_S = 2.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALAMNA_")}
    env.update({"KALAMNA_DATA_DIR": str(data_dir), "KALAMNA_LOG_LEVEL": "INFO", **extra})
    return env


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Short (Unix socket paths) and reachable by the PostgreSQL system user when run as root.
    root = Path(tempfile.mkdtemp(prefix="klm-d-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_sigterm_to_dev_leaves_no_postgres_or_redis(data_dir: Path) -> None:
    port = _free_port()
    log = data_dir / "dev.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kalamna.cli", "dev", "--port", str(port)],
            env=_env(data_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        postgres_pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        redis_pid = int((data_dir / "redis" / "redis.pid").read_text().strip())
        assert _alive(postgres_pid) and _alive(redis_pid)

        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 15
        while (_alive(postgres_pid) or _alive(redis_pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (code, _alive(postgres_pid), _alive(redis_pid)) == (0, False, False), log.read_text()
        print(f"kalamna dev stopped on SIGTERM in {elapsed:.2f}s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_idle_worker_stops_promptly_on_sigterm(services, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    log = data_dir / "worker.log"
    env = _env(
        data_dir,
        KALAMNA_DATABASE_URL=services.database_url,
        KALAMNA_REDIS_URL=services.redis_url,
        KALAMNA_QUEUE_NAME="idle-stop-test",
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kalamna.cli", "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while "worker ready" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(2)  # idle, waiting for jobs
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        elapsed = time.monotonic() - started
        print(f"idle worker stopped on SIGTERM in {elapsed:.2f}s")
        assert code == 0, log.read_text()
        assert elapsed < IDLE_WORKER_STOP_LIMIT_S, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
