"""Issue 16, item 7: /health reports the schema revision and fails while the database is behind
the code; the vector index is made on first use by a process that started before ``migrate``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from kalamna.adapters.postgres.chunk_index import vector_index_name
from kalamna.adapters.postgres.migrations import upgrade_to_head
from kalamna.adapters.postgres.schema import code_revisions
from kalamna.embedded import EmbeddedPostgres
from kalamna.web.app import create_app, web_container
from tests.api.helpers import live_account, wait_for_status
from tests.conftest import make_test_settings
from tests.reliability.test_ingestion_outage import ControlledEmbedder, embedder_provider

pytestmark = pytest.mark.slow


async def _indexes(url: str) -> list[str]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'knowledge_chunks'")
    finally:
        await conn.close()
    return [r["indexname"] for r in rows]


def test_the_code_knows_its_head_revision() -> None:
    head, older = code_revisions()
    assert head not in older
    assert "0001" in older


async def test_unmigrated_database_fails_health_then_index_is_made_on_first_use(
    bare_postgres: EmbeddedPostgres, services, clean_state, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    head, _ = code_revisions()
    settings = make_test_settings(services, tmp_path / "data", database_url=bare_postgres.url)
    embedder = ControlledEmbedder()
    app = create_app(settings, web_container(settings, embedder_provider(embedder)), run_worker=True)
    async with AsyncTestClient(app, timeout=60) as client:  # starts before `kalamna migrate`
        response = await client.get("/api/v1/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["dependencies"]["database"] == "schema_behind"
        assert body["schema"] == {"revision": None, "expected": head}

        await asyncio.to_thread(upgrade_to_head, bare_postgres.url)
        response = await client.get("/api/v1/health")
        assert response.status_code == 200
        assert response.json()["dependencies"]["database"] == "ok"
        assert response.json()["schema"] == {"revision": head, "expected": head}

        index = vector_index_name(embedder.model, embedder.dimensions)
        assert index not in await _indexes(bare_postgres.url)
        owner = await live_account(client, settings, "owner@schema.test", "Schema Org")
        created = await client.post(
            f"/api/v1/orgs/{owner.organization_id}/knowledge-bases",
            json={"title": "Hours", "content": "We are open from nine to five."},
            headers=owner.auth,
        )
        assert created.status_code == 201
        assert (await wait_for_status(client, owner, created.json()["id"]))["status"] == "ready"
        assert index in await _indexes(bare_postgres.url)
