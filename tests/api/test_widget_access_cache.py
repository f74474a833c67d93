"""Issue 13: each API process keeps the widget key's organization and bot config, yet a rotated key,
a suspended organization or a changed bot config is seen on the very next request by every process
(two apps sharing PostgreSQL and Redis, as two ``kalamna serve`` processes do)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from kalamna.application.chat.sessions import WidgetAccessCache
from kalamna.web.app import create_app
from tests.api.conftest import RecordingJobs, shared_container
from tests.api.helpers import World

pytestmark = pytest.mark.usefixtures("clean_state")


@pytest.fixture
async def other(settings: Any, jobs: RecordingJobs) -> AsyncIterator[AsyncTestClient]:
    """A second API process: its own container, cache and pools; the same database and Redis."""
    container = shared_container(settings, jobs)
    app = create_app(settings, container)
    async with AsyncTestClient(app) as test_client:
        test_client.container = container  # type: ignore[attr-defined]
        yield test_client


async def _rotate(client: AsyncTestClient, world: World) -> str:
    response = await client.post(f"/api/v1/orgs/{world.org}/credentials", headers=world.owner.auth)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["api_key"])


async def _config(client: AsyncTestClient, key: str) -> Any:
    return await client.get("/api/v1/chat/config", headers={"X-API-Key": key})


async def _warm(client: AsyncTestClient, key: str) -> None:
    # The first request loads; the second revalidates with the generation; the third is a cache hit.
    for _ in range(3):
        assert (await _config(client, key)).status_code == 200


async def _cached_generations(client: AsyncTestClient) -> list[str | None]:
    cache = await client.container.get(WidgetAccessCache)  # type: ignore[attr-defined]
    return [entry.generation for entry in cache._entries.values()]


async def test_the_other_process_serves_from_its_cache(
    client: AsyncTestClient, other: AsyncTestClient, world: World
) -> None:
    key = await _rotate(client, world)
    await _warm(other, key)
    generations = await _cached_generations(other)
    assert len(generations) == 1 and generations[0] is not None


async def test_a_rotated_key_is_refused_by_every_process_on_the_next_request(
    client: AsyncTestClient, other: AsyncTestClient, world: World
) -> None:
    old = await _rotate(client, world)
    await _warm(client, old)
    await _warm(other, old)
    new = await _rotate(client, world)  # through the first process
    refused = await _config(other, old)
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    assert (await _config(client, old)).status_code == 401
    assert (await _config(other, new)).status_code == 200


async def test_a_suspended_organization_is_refused_by_every_process_on_the_next_request(
    client: AsyncTestClient, other: AsyncTestClient, world: World
) -> None:
    key = await _rotate(client, world)
    await _warm(other, key)
    session = await other.post("/api/v1/chat/sessions", json={}, headers={"X-API-Key": key})
    assert session.status_code == 201
    suspended = await client.patch(
        f"/api/v1/orgs/{world.org}", json={"status": "suspended"}, headers=world.superuser.auth
    )
    assert suspended.status_code == 200
    assert (await _config(other, key)).status_code == 401
    message = await other.post(
        f"/api/v1/chat/sessions/{session.json()['session_id']}/messages",
        json={"content": "hello"},
        headers={"X-API-Key": key, "X-Session-Token": session.json()["session_token"]},
    )
    assert message.status_code == 401
    reactivated = await client.patch(
        f"/api/v1/orgs/{world.org}", json={"status": "active"}, headers=world.superuser.auth
    )
    assert reactivated.status_code == 200
    assert (await _config(other, key)).status_code == 200


async def test_a_bot_config_change_is_seen_by_every_process_on_the_next_request(
    client: AsyncTestClient, other: AsyncTestClient, world: World
) -> None:
    key = await _rotate(client, world)
    await _warm(other, key)
    changed = await client.put(
        f"/api/v1/orgs/{world.org}/config", json={"bot_name": "Renamed Bot"}, headers=world.owner.auth
    )
    assert changed.status_code == 200, changed.text
    config = await _config(other, key)
    assert config.status_code == 200
    assert config.json()["bot_name"] == "Renamed Bot"


async def test_a_key_of_another_organization_gets_that_organization_only(
    client: AsyncTestClient, other: AsyncTestClient, world: World
) -> None:
    key_a = await _rotate(client, world)
    response = await client.post(
        f"/api/v1/orgs/{world.other_owner.organization_id}/credentials", headers=world.other_owner.auth
    )
    key_b = str(response.json()["api_key"])
    rename = await client.get(
        f"/api/v1/orgs/{world.other_owner.organization_id}/config", headers=world.other_owner.auth
    )
    assert rename.status_code == 200
    await _warm(other, key_a)
    await _warm(other, key_b)
    assert (await _config(other, key_a)).json()["bot_name"] == (
        await client.get(f"/api/v1/orgs/{world.org}/config", headers=world.owner.auth)
    ).json()["bot_name"]
    assert (await _config(other, key_b)).json()["bot_name"] == rename.json()["bot_name"]
    assert (await _config(other, key_a + "x")).status_code == 401
