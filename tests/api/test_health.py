"""GET /api/v1/health: 200 when all is well, 503 naming the dependency when one is down, and
recovery once it returns (real servers, stopped and restarted)."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from kalamna.embedded import EmbeddedPostgres, EmbeddedRedis
from kalamna.web.app import create_app
from tests.api.conftest import shared_container
from tests.conftest import make_test_settings


async def test_health_ok(client: AsyncTestClient) -> None:
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert body["dependencies"] == {
        "database": "ok",
        "redis": "ok",
        "queue": "ok",
        "embedder": "ok",
        "llm": "ok",
    }


async def test_unreachable_llm_is_reported_without_failing_health(
    services, clean_state, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_test_settings(
        services,
        tmp_path,
        llm_provider="openai",
        embedding_provider="offline",
        openai_base_url="http://127.0.0.1:9/v1",
    )
    app = create_app(settings, shared_container(settings))
    async with AsyncTestClient(app) as client:
        response = await client.get("/api/v1/health")
        assert response.status_code == 200
        assert response.json()["dependencies"]["llm"] == "unavailable"
        assert response.json()["dependencies"]["embedder"] == "ok"


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    server = EmbeddedRedis(tmp_path_factory.mktemp("r"))
    server.start()
    yield server
    server.release()


@pytest.mark.slow
async def test_redis_outage_gives_503_then_recovers(
    services, own_redis: EmbeddedRedis, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_test_settings(services, tmp_path, redis_url=own_redis.url)
    app = create_app(settings, shared_container(settings))
    async with AsyncTestClient(app) as client:
        assert (await client.get("/api/v1/health")).status_code == 200
        own_redis.stop()
        response = await client.get("/api/v1/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["dependencies"]["redis"] != "ok"
        assert body["dependencies"]["queue"] != "ok"
        assert body["dependencies"]["database"] == "ok"
        own_redis.start()
        assert (await client.get("/api/v1/health")).status_code == 200


@pytest.mark.slow
async def test_postgres_outage_gives_503_then_recovers(
    services, own_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_test_settings(services, tmp_path, database_url=own_postgres.url)
    app = create_app(settings, shared_container(settings))
    async with AsyncTestClient(app) as client:
        assert (await client.get("/api/v1/health")).status_code == 200
        own_postgres.stop()
        response = await client.get("/api/v1/health")
        assert response.status_code == 503
        body = response.json()
        assert body["dependencies"]["database"] != "ok"
        assert body["dependencies"]["redis"] == "ok"
        own_postgres.restart()
        assert (await client.get("/api/v1/health")).status_code == 200
