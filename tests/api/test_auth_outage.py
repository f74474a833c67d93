"""When Redis is unreachable the revocation check fails closed: 503, never a silently accepted token."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from kalamna.embedded import EmbeddedRedis
from kalamna.web.app import create_app
from tests.api.conftest import shared_container
from tests.api.helpers import signed_up
from tests.conftest import make_test_settings


@pytest.mark.slow
async def test_revocation_check_fails_closed(services, clean_state, jobs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    redis = EmbeddedRedis(tmp_path / "r")
    redis.start()
    try:
        settings = make_test_settings(services, tmp_path / "data", redis_url=redis.url)
        app = create_app(settings, shared_container(settings, jobs))
        async with AsyncTestClient(app) as client:
            account = await signed_up(client, jobs, "closed@acme.test")
            assert (await client.get("/api/v1/auth/me", headers=account.auth)).status_code == 200
            redis.stop()
            response = await client.get("/api/v1/auth/me", headers=account.auth)
            assert response.status_code == 503
            assert response.json()["code"] == "service_unavailable"
            redis.start()
            assert (await client.get("/api/v1/auth/me", headers=account.auth)).status_code == 200
    finally:
        redis.release()
