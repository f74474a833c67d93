"""Issue 16, item 2: an outage during ingestion never leaves an entry stuck.

SAQ's own retries back off over minutes; these tests shorten them to a single attempt (as if every
retry had been spent) and then let the reconciler — queued exactly as its schedule queues it —
finish the work once the outage is over."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from dishka import Provider, Scope
from litestar.testing import AsyncTestClient

from kalamna.adapters.queue import saq_queue
from kalamna.adapters.queue.saq_queue import SaqJobQueue, make_queue
from kalamna.domain.errors import EmbedderUnavailable
from kalamna.embedded import EmbeddedPostgres, EmbeddedRedis
from kalamna.ports.ai import Embedder
from kalamna.ports.jobs import INGEST_ENTRY, RECONCILE_INGESTION
from kalamna.web.app import create_app, web_container
from tests.api.helpers import Account, live_account, wait_for_status
from tests.conftest import make_test_settings

pytestmark = pytest.mark.slow

API = "/api/v1"


class ControlledEmbedder:
    """8-dimensional vectors; can hold every call at a gate, or fail while ``outage`` is set."""

    model = "test-embedder-8"
    dimensions = 8

    def __init__(self) -> None:
        # The app runs on the test client's own event loop and thread: a thread-safe gate.
        self.gate: threading.Event | None = None
        self.waiting = False
        self.outage = False

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        if self.gate is not None:
            self.waiting = True
            while not self.gate.is_set():
                await asyncio.sleep(0.02)
        if self.outage:
            raise EmbedderUnavailable()
        return [[float(len(t) % 7 + 1), 1, 0, 0, 0, 0, 0, 1] for t in texts]

    async def embed_query(self, text: str) -> list[float]:
        return [1.0, 1, 0, 0, 0, 0, 0, 1]


def embedder_provider(embedder: ControlledEmbedder) -> Provider:
    provider = Provider(scope=Scope.APP)
    provider.provide(lambda: embedder, provides=Embedder, override=True)
    return provider


@pytest.fixture
def single_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    options = {**saq_queue.TASK_OPTIONS[INGEST_ENTRY], "retries": 1}
    monkeypatch.setitem(saq_queue.TASK_OPTIONS, INGEST_ENTRY, options)


async def _until(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def _sql(url: str, statement: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return list(await conn.fetch(statement))
    finally:
        await conn.close()


async def _create(client: AsyncTestClient, owner: Account) -> str:
    response = await client.post(
        f"{API}/orgs/{owner.organization_id}/knowledge-bases",
        json={"title": "Returns", "content": "Returns are accepted within 30 days of delivery."},
        headers=owner.auth,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_postgres_stopped_during_ingestion_ends_ready_after_the_reconciler(
    own_postgres: EmbeddedPostgres, own_redis: EmbeddedRedis, single_attempt: None, tmp_path: Path, services
) -> None:  # type: ignore[no-untyped-def]
    settings = make_test_settings(
        services, tmp_path / "data", database_url=own_postgres.url, redis_url=own_redis.url
    )
    embedder = ControlledEmbedder()
    app = create_app(settings, web_container(settings, embedder_provider(embedder)), run_worker=True)
    queue = make_queue(own_redis.url, settings.queue_name)
    try:
        async with AsyncTestClient(app, timeout=60) as client:
            owner = await live_account(client, settings, "owner@outage.test", "Outage Org")
            embedder.gate = threading.Event()
            entry_id = await _create(client, owner)

            async def embedding() -> bool:
                return embedder.waiting

            await _until(embedding)  # chunked and committed as `processing`; the model is working
            await asyncio.to_thread(own_postgres.stop)
            embedder.gate.set()  # storing the vectors fails, and so does marking the entry failed

            async def job_failed() -> bool:
                job = await queue.job(f"ingest:{entry_id}:1")
                return job is not None and job.status.value == "failed"

            await _until(job_failed)
            await asyncio.to_thread(own_postgres.restart)
            [row] = await _sql(own_postgres.url, "SELECT status FROM knowledge_entries")
            assert row["status"] == "processing"  # stuck: nothing will touch it again but the reconciler

            # An hour and six minutes later the schedule runs the reconciler.
            await _sql(
                own_postgres.url,
                "UPDATE knowledge_entries SET updated_at = updated_at - interval '66 minutes'",
            )
            assert await SaqJobQueue(queue).enqueue(RECONCILE_INGESTION, key="reconcile:test")
            body = await wait_for_status(client, owner, entry_id, ("ready",), timeout=60)
            assert (body["status"], body["error"], body["chunk_count"]) == ("ready", None, 1)
        [row] = await _sql(own_postgres.url, "SELECT ingest_attempts, retry_at FROM knowledge_entries")
        assert (row["ingest_attempts"], row["retry_at"]) == (1, None)
    finally:
        await queue.disconnect()


async def test_embedder_outage_fails_with_a_reason_then_the_reconciler_retries(
    services, clean_state, single_attempt: None, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_test_settings(services, tmp_path / "data")
    embedder = ControlledEmbedder()
    app = create_app(settings, web_container(settings, embedder_provider(embedder)), run_worker=True)
    queue = make_queue(services.redis_url, settings.queue_name)
    async with AsyncTestClient(app, timeout=60) as client:
        owner = await live_account(client, settings, "owner@embed.test", "Embed Org")
        embedder.outage = True
        entry_id = await _create(client, owner)
        failed = await wait_for_status(client, owner, entry_id, ("failed",))
        assert failed["error"].startswith(
            "The embedding service is unavailable. It will be retried automatically after "
        )
        assert failed["error"].endswith("UTC; editing the entry retries it now.")
        [row] = await _sql(
            services.database_url, "SELECT retry_at - updated_at AS wait FROM knowledge_entries"
        )
        assert row["wait"].total_seconds() == 300

        embedder.outage = False
        await _sql(
            services.database_url, "UPDATE knowledge_entries SET retry_at = now() - interval '1 second'"
        )
        try:
            assert await SaqJobQueue(queue).enqueue(RECONCILE_INGESTION, key="reconcile:test")
        finally:
            await queue.disconnect()
        body = await wait_for_status(client, owner, entry_id, ("ready",))
        assert (body["status"], body["error"]) == ("ready", None)
