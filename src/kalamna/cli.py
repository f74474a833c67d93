"""``kalamna`` command line: dev, serve, worker, migrate."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from kalamna import __version__
from kalamna.config import Settings, SettingsError, load_settings
from kalamna.observability import configure_logging
from kalamna.startup import pause_collector, resume_collector_after_startup

logger = logging.getLogger("kalamna.cli")


def _settings(log_format: str | None = None) -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from exc
    configure_logging(settings.log_level, log_format or settings.log_format)
    return settings


def _resolved(settings: Settings) -> Settings:
    from kalamna.embedded import resolve_services

    resolved, _services = resolve_services(settings)
    return resolved


def cmd_dev(args: argparse.Namespace) -> int:
    import msgspec
    import uvicorn

    from kalamna.adapters.postgres.migrations import upgrade_to_head
    from kalamna.web.app import create_app, web_container

    started = time.monotonic()
    settings = _settings(log_format="text")
    # Emailed links and the demo page name the address this process really listens on.
    settings = msgspec.structs.replace(_resolved(settings), host=args.host, port=args.port)
    assert settings.database_url
    upgrade_to_head(settings.database_url)
    pages = []
    demo = None
    if args.demo:
        from kalamna.web.demo import demo_handlers, ensure_demo

        demo = asyncio.run(ensure_demo(settings))
        pages = demo_handlers(demo)
    app = create_app(settings, web_container(settings), run_worker=True, top_level_handlers=pages)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_config=None, access_log=False)
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            resume_collector_after_startup()
            logger.info(
                "Kalamna is ready on http://%s:%d (docs: /schema/swagger, mail: %s) in %.1fs",
                args.host,
                args.port,
                settings.data_dir.resolve() / "mail",
                time.monotonic() - started,
            )
            if demo is not None:
                logger.info("Demo shop with the chat widget: %s/demo", settings.base_url)
            if demo is not None and demo.owner_password:
                # Printed once, on the start that created the demo organization.
                print(
                    f"\nDemo organization created. Owner login (shown only now):\n"
                    f"  email:    {demo.owner_email}\n  password: {demo.owner_password}\n",
                    flush=True,
                )
        await task

    # uvicorn re-raises the captured SIGINT after a clean shutdown; that is not an error.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0


def _prometheus_multiprocess_dir(settings: Settings, workers: int) -> None:
    """Several workers share their metrics through files: ``PROMETHEUS_MULTIPROC_DIR`` (the
    deployer's, kept as is) or ``<data_dir>/prometheus`` (emptied here, before any worker starts).
    Must run before prometheus_client is imported in this process."""
    import os
    import shutil

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") or workers <= 1:
        return
    path = (settings.data_dir / "prometheus").resolve()
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    _prometheus_multiprocess_dir(settings, args.workers or settings.workers)
    # The app factory reads its settings again in each worker: pass the flags on, so that emailed
    # links name the real port.
    if args.host:
        os.environ["KALAMNA_HOST"] = args.host
    if args.port:
        os.environ["KALAMNA_PORT"] = str(args.port)
    # With several workers this process only supervises them, for as long as they run: it must not
    # stay paused. Each process that builds the app pauses again while it does (web/asgi.py).
    resume_collector_after_startup()
    uvicorn.run(
        "kalamna.web.asgi:app_factory",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,  # client IPs are resolved by our own trusted-proxy rule
        timeout_graceful_shutdown=20,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from kalamna.di import make_container
    from kalamna.worker.runner import build_worker

    settings = _resolved(_settings())

    async def run() -> None:
        container = make_container(settings)
        try:
            worker = await build_worker(settings, container)
            if args.concurrency:
                worker.concurrency = args.concurrency
            resume_collector_after_startup()
            await worker.start()
        finally:
            await container.close()
        logger.info("worker stopped")

    asyncio.run(run())
    return 0


def _exit_without_teardown(code: int) -> NoReturn:
    """Leave now that every resource is closed: run the ``atexit`` hooks (the embedded servers'
    clean-up), flush, and skip the interpreter's module teardown, which alone took 1-3 s for a
    worker and ~0.4 s for a one-off command."""
    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def cmd_migrate(args: argparse.Namespace) -> int:
    from kalamna.adapters.postgres.migrations import upgrade_to_head

    settings = _resolved(_settings())
    assert settings.database_url
    upgrade_to_head(settings.database_url)
    logger.info("database schema is up to date")
    return 0


def cmd_create_superuser(args: argparse.Namespace) -> int:
    """Idempotent: an existing email is reported, not overwritten (exit code 0, nothing changed)."""
    from kalamna.adapters.postgres.migrations import upgrade_to_head
    from kalamna.application.auth.superuser import CreateSuperuser
    from kalamna.di import make_container
    from kalamna.domain.errors import EmailTaken, InvalidInput
    from kalamna.domain.identity import normalize_email
    from kalamna.domain.passwords import validate_new_password

    try:  # bad input fails at once, before any server is started or migrated (the use case checks again)
        normalize_email(args.email)
        validate_new_password(args.password)
    except InvalidInput as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    settings = _resolved(_settings(log_format="text"))
    assert settings.database_url
    upgrade_to_head(settings.database_url)

    async def run() -> int:
        container = make_container(settings)
        try:
            async with container() as scope:
                create = await scope.get(CreateSuperuser)
                employee = await create(args.email, args.password, args.full_name)
        except EmailTaken as exc:
            print(f"{exc.detail} Nothing was changed.")
            return 0
        except InvalidInput as exc:
            print(f"error: {exc.detail}", file=sys.stderr)
            return 2
        finally:
            await container.close()
        print(f"Superuser {employee.email} created (id {employee.id}).")
        return 0

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kalamna", description="Kalamna AI customer-support platform.")
    parser.add_argument("--version", action="version", version=f"kalamna {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = sub.add_parser(
        "dev",
        help="run everything on this machine (embedded PostgreSQL and Redis, migrations, API, worker)",
        description="Start embedded services unless KALAMNA_DATABASE_URL / KALAMNA_REDIS_URL are set, "
        "apply migrations, and serve the API with an in-process job worker. Ctrl-C stops it cleanly.",
    )
    dev.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    dev.add_argument(
        "--no-demo", dest="demo", action="store_false", help="do not seed or serve the /demo shop"
    )
    dev.set_defaults(func=cmd_dev)

    serve = sub.add_parser("serve", help="production API server (uvicorn)", description="Serve the API.")
    serve.add_argument("--host", default=None, help="interface to bind (default KALAMNA_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default KALAMNA_PORT)")
    serve.add_argument("--workers", type=int, default=None, help="processes (default KALAMNA_WORKERS)")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run a background job worker", description="Run a SAQ worker.")
    worker.add_argument("--concurrency", type=int, default=None, help="jobs at once")
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser("migrate", help="apply database migrations", description="Upgrade to head.")
    migrate.set_defaults(func=cmd_migrate)

    superuser = sub.add_parser(
        "create-superuser",
        help="create the platform superuser (non-interactive, idempotent)",
        description="Create a platform superuser. Applies migrations first; safe while `kalamna dev` runs.",
    )
    superuser.add_argument("--email", required=True)
    superuser.add_argument("--password", required=True)
    superuser.add_argument("--full-name", default="Platform administrator")
    superuser.set_defaults(func=cmd_create_superuser)
    return parser


def _sigterm_like_ctrl_c() -> None:
    """SIGTERM (containers, systemd, CI) stops a command exactly like Ctrl-C: as KeyboardInterrupt,
    so that clean-up runs (uvicorn's graceful shutdown, the worker's, then the ``atexit`` hooks that
    stop the embedded PostgreSQL and Redis). uvicorn and SAQ install their own handlers while they
    run and give this one back afterwards; uvicorn then re-raises the signal it caught, which lands
    here as well."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run a command, then leave without the interpreter's teardown (``_exit_without_teardown``)."""
    pause_collector()  # resumed once a long-running command has started (kalamna.startup)
    args = build_parser().parse_args(argv)
    _sigterm_like_ctrl_c()
    try:
        code = int(args.func(args))
    except KeyboardInterrupt:
        # Stopping a server or a worker is its normal end; interrupting a one-off command is not.
        code = 0 if args.command in ("dev", "serve", "worker") else 130
    _exit_without_teardown(code)


if __name__ == "__main__":
    main()
