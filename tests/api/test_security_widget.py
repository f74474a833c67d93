"""Issue 9 items 6 and 13: widget budgets per client, feedback limits, suspended organizations, and a
missing session token."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.security import MemoryRateLimiter
from kalamna.config import Settings
from kalamna.web.errors import ApiError
from kalamna.web.widget_limits import widget_budget
from tests.api.helpers import World

pytestmark = pytest.mark.usefixtures("clean_state")


async def _key(client: AsyncTestClient, world: World) -> str:
    response = await client.post(f"/api/v1/orgs/{world.org}/credentials", headers=world.owner.auth)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["api_key"])


async def _session(client: AsyncTestClient, key: str) -> dict[str, Any]:
    response = await client.post("/api/v1/chat/sessions", json={}, headers={"X-API-Key": key})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _request(ip: str) -> Any:
    return SimpleNamespace(client=SimpleNamespace(host=ip), headers={})


async def test_each_client_ip_has_its_own_share_under_the_key_ceiling() -> None:
    settings = Settings(rate_limit_widget_client_requests="3/60", rate_limit_widget_key_requests="5/60")
    limiter = MemoryRateLimiter()
    org = uuid4()
    for _ in range(3):
        headers = await widget_budget(_request("198.51.100.1"), limiter, settings, org)
    assert headers["X-RateLimit-Limit"] == "3"
    with pytest.raises(ApiError) as noisy:
        await widget_budget(_request("198.51.100.1"), limiter, settings, org)
    assert noisy.value.status_code == 429
    # The noisy client is refused; another visitor still gets in, until the key's ceiling.
    await widget_budget(_request("198.51.100.2"), limiter, settings, org)
    await widget_budget(_request("198.51.100.3"), limiter, settings, org)
    with pytest.raises(ApiError):
        await widget_budget(_request("198.51.100.4"), limiter, settings, org)


async def test_feedback_is_rate_limited_per_conversation(client: AsyncTestClient, world: World) -> None:
    key = await _key(client, world)
    session = await _session(client, key)
    url = f"/api/v1/chat/sessions/{session['session_id']}/feedback"
    headers = {"X-API-Key": key, "X-Session-Token": session["session_token"]}
    for _ in range(10):
        assert (await client.post(url, json={"rating": 5}, headers=headers)).status_code == 201
    limited = await client.post(url, json={"rating": 1}, headers=headers)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) > 0
    token_only = await client.post(
        url, json={"rating": 1}, headers={"X-Session-Token": session["session_token"]}
    )
    assert token_only.status_code == 429


async def test_feedback_is_refused_for_a_suspended_organization(
    client: AsyncTestClient, world: World
) -> None:
    key = await _key(client, world)
    session = await _session(client, key)
    suspended = await client.patch(
        f"/api/v1/orgs/{world.org}", json={"status": "suspended"}, headers=world.superuser.auth
    )
    assert suspended.status_code == 200
    response = await client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/feedback",
        json={"rating": 5},
        headers={"X-Session-Token": session["session_token"]},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "organization_suspended"


async def test_a_missing_session_token_is_401_naming_the_header(
    client: AsyncTestClient, world: World
) -> None:
    key = await _key(client, world)
    session = await _session(client, key)
    for method, path in (
        ("GET", "messages"),
        ("POST", "close"),
        ("POST", "handover"),
        ("GET", "events"),
    ):
        response = await client.request(
            method, f"/api/v1/chat/sessions/{session['session_id']}/{path}", headers={"X-API-Key": key}
        )
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "not_authenticated"
        assert "X-Session-Token" in response.json()["detail"]
