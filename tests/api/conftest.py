from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import pytest
from dishka import AsyncContainer, Provider, Scope, from_context, provide
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

import kalamna.di
from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.postgres.engine import make_engine
from kalamna.adapters.postgres.mail_outbox import MailSealer, SqlaMailOutbox
from kalamna.config import Settings
from kalamna.domain.mail import EmailMessage
from kalamna.ports.jobs import NOTIFY_WAITING_STAFF, REQUEST_PASSWORD_RESET, RESEND_VERIFICATION, JobQueue
from kalamna.ports.mail import MailOutbox
from kalamna.web.app import bind_container, build_app, create_app, web_providers
from kalamna.worker.tasks import notify_waiting_staff, request_password_reset, resend_verification
from tests.graphs import app_container


@dataclass
class RecordingJobs(MemoryJobQueue):
    """Jobs are recorded instead of run, so tests can read the emails (and their tokens); the
    account lookups behind forgot-password and resend-verification (and the waiting-customer
    notice) run at once, in their own unit
    of work, as the worker would run them."""

    container: AsyncContainer | None = None
    mails: dict[str, dict[str, str]] = field(default_factory=dict)  # outbox id -> rendered mail

    async def enqueue(self, task: str, *, key: str | None = None, **kwargs: Any) -> None:
        await super().enqueue(task, key=key, **kwargs)
        if task in _INLINE and self.container is not None:
            await _INLINE[task]({"container": self.container}, **kwargs)


_INLINE: dict[str, Any] = {
    REQUEST_PASSWORD_RESET: request_password_reset,
    RESEND_VERIFICATION: resend_verification,
    NOTIFY_WAITING_STAFF: notify_waiting_staff,
}


class RecordingMailOutbox(SqlaMailOutbox):
    """The real outbox, which also remembers each rendered mail for the test to read."""

    jobs: RecordingJobs

    async def add(self, message: EmailMessage, *, kind: str, now: datetime) -> UUID:
        mail_id = await super().add(message, kind=kind, now=now)
        self.jobs.mails[str(mail_id)] = message.to_payload()
        return mail_id


@pytest.fixture
def jobs() -> RecordingJobs:
    return RecordingJobs()


class _RecordedJobs(Provider):
    """Jobs recorded into the graph's ``RecordingJobs``, and the outbox that remembers each mail."""

    scope = Scope.APP

    @provide(override=True)
    def queue(self, jobs: RecordingJobs, container: AsyncContainer) -> JobQueue:
        jobs.container = container
        return jobs

    @provide(scope=Scope.REQUEST, override=True)
    def outbox(self, session: AsyncSession, sealer: MailSealer, jobs: RecordingJobs) -> MailOutbox:
        recording = RecordingMailOutbox(session, sealer)
        recording.jobs = jobs
        return recording


class _RecordingJobsFromContext(_RecordedJobs):
    """The test's ``RecordingJobs`` from the container's context, so that one graph serves every test
    (``shared_container``)."""

    jobs = from_context(provides=RecordingJobs, scope=Scope.APP)


def recording_jobs(jobs: MemoryJobQueue) -> Provider:
    """For a container of its own: record jobs into ``jobs``."""
    assert isinstance(jobs, RecordingJobs)
    provider = _RecordedJobs()
    provider.provide(lambda: jobs, provides=RecordingJobs)
    return provider


_APPS: dict[tuple[str, ...], Litestar] = {}


def shared_app(settings: Settings) -> Litestar:
    """One app per process and dashboard origins (the only setting ``build_app`` reads besides the
    in-process worker's): building one costs ~50-100 ms of CPU, and the suite's tests use hundreds.
    Each test binds its own container (settings, pools, caches) to it, as ``create_app`` does."""
    key = tuple(settings.cors_allow_origins)
    if key not in _APPS:
        _APPS[key] = build_app(settings)
    return _APPS[key]


class _ReusedEngines(Provider):
    """The production engine factory, except that a closed APP scope hands its engine, disposed (no
    connection left open), to the next test instead of dropping it. A new engine compiles every SQL
    statement again and initialises its dialect on its first connection: ~25 ms of each API test.
    An engine serves one scope at a time; scopes alive together (a second "process") get their own."""

    _free: ClassVar[dict[tuple[str, int, bool], list[AsyncEngine]]] = {}

    @provide(scope=Scope.APP, override=True)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        assert settings.database_url
        key = (settings.database_url, settings.database_pool_size, settings.database_echo)
        free = self._free.setdefault(key, [])
        engine = free.pop() if free else make_engine(key[0], pool_size=key[1], echo=key[2])
        try:
            yield engine
        finally:
            await engine.dispose()
            free.append(engine)


def shared_container(settings: Settings, jobs: RecordingJobs | None = None) -> AsyncContainer:
    """What ``web_container(settings, recording_jobs(jobs))`` (or ``web_container(settings)``, without
    ``jobs``) builds, in a fresh APP scope of a graph built once per process (``tests/graphs.py``)."""
    if jobs is None:
        return app_container(
            "web", lambda: [*kalamna.di.providers(), *web_providers(), _ReusedEngines()], {Settings: settings}
        )
    return app_container(
        "web, recorded jobs",
        lambda: [*kalamna.di.providers(), *web_providers(), _ReusedEngines(), _RecordingJobsFromContext()],
        {Settings: settings, RecordingJobs: jobs},
    )


@pytest.fixture
async def client(settings, clean_state, jobs) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    app = shared_app(settings)
    bind_container(app, shared_container(settings, jobs))
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.fixture
async def world(client, jobs, settings):  # type: ignore[no-untyped-def]
    from tests.api.helpers import build_world

    return await build_world(client, jobs, settings)


@pytest.fixture
async def live_client(settings, clean_state) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    """The app with real SAQ jobs and an in-process worker: ingestion really runs."""
    app = create_app(settings, shared_container(settings), run_worker=True)
    async with AsyncTestClient(app, timeout=60) as test_client:
        yield test_client
