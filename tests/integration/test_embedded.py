"""Embedded servers: shared by several processes, recovered after a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from kalamna.embedded import EmbeddedPostgres, EmbeddedRedis, process_exited
from tests.postgres_templates import BARE, copy_of_template

pytestmark = pytest.mark.slow


def test_second_holder_shares_and_last_holder_stops(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "r")
    server.start()
    # Another process joins the same data directory and leaves: the server must survive it.
    code = (
        "from pathlib import Path; from kalamna.embedded import EmbeddedRedis;"
        f"s = EmbeddedRedis(Path({str(tmp_path / 'r')!r})); s.start();"
        "import redis; assert redis.Redis.from_url(s.url).ping()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert redis.Redis.from_url(server.url).ping()
    server.release()
    assert not server.socket_path.exists() or not _pings(server.url)


def test_crashed_holder_and_dead_server_are_recovered(tmp_path: Path) -> None:
    directory = tmp_path / "r"
    server = EmbeddedRedis(directory)
    server.start()
    server.stop()  # the server dies behind our back, leaving its pid file and socket
    dead_pid = _dead_pid()
    (directory / "holders.json").write_text(json.dumps([dead_pid, os.getpid()]))
    again = EmbeddedRedis(directory)
    again.start()
    try:
        assert redis.Redis.from_url(again.url).ping()
        assert dead_pid not in json.loads((directory / "holders.json").read_text())
    finally:
        again.release()
        server.release()


def test_postgres_released_by_its_last_live_holder_is_stopped_at_once(postgres_dir: Path) -> None:
    directory = copy_of_template(postgres_dir / "pg", BARE)
    server = EmbeddedPostgres(directory)
    server.start()
    assert "(1 row)" in server._server.psql("SELECT 1;")  # type: ignore[attr-defined]
    assert (directory / "postmaster.pid").exists()
    # A process that joined and crashed is still listed; it must not keep the server running.
    holders = directory / ".handle_pids.json"
    holders.write_text(json.dumps([*json.loads(holders.read_text()), _dead_pid()]))
    server.release()
    assert not (directory / "postmaster.pid").exists()  # pg_ctl stop removes it once the server is down
    assert json.loads(holders.read_text()) == []


def test_an_exited_process_not_yet_reaped_counts_as_exited() -> None:
    """A stopped server daemon stays a zombie until init reaps it; stopping must not wait for that."""
    import psutil

    finished = subprocess.Popen([sys.executable, "-c", "pass"])  # not waited for: a zombie once done
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert process_exited(psutil.Process(finished.pid), timeout=30)
        assert psutil.Process(finished.pid).status() == psutil.STATUS_ZOMBIE
        assert not process_exited(psutil.Process(running.pid), timeout=0.2)
    finally:
        running.kill()
        running.wait()
        finished.wait()


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.ConnectionError:
        return False


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
