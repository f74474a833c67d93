from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dishka import Provider, Scope
from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.ports.jobs import JobQueue
from kalamna.web.app import create_app, web_container


@pytest.fixture
def jobs() -> MemoryJobQueue:
    """Jobs are recorded instead of run, so tests can read the emails (and their tokens)."""
    return MemoryJobQueue()


def recording_jobs(jobs: MemoryJobQueue) -> Provider:
    provider = Provider(scope=Scope.APP)
    provider.provide(lambda: jobs, provides=JobQueue)
    return provider


@pytest.fixture
async def client(settings, clean_state, jobs) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, web_container(settings, recording_jobs(jobs)))
    async with AsyncTestClient(app) as test_client:
        yield test_client


@pytest.fixture
async def world(client, jobs, settings):  # type: ignore[no-untyped-def]
    from tests.api.helpers import build_world

    return await build_world(client, jobs, settings)


@pytest.fixture
async def live_client(settings, clean_state) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    """The app with real SAQ jobs and an in-process worker: ingestion really runs."""
    app = create_app(settings, web_container(settings), run_worker=True)
    async with AsyncTestClient(app, timeout=60) as test_client:
        yield test_client
