"""Issue 9 items 6 and 13: widget budgets per client, feedback limits, suspended organizations, and a
missing session token."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from kalamna.adapters.cache.redis_client import make_redis
from kalamna.adapters.cache.widget_gate import RedisWidgetGate
from kalamna.application.chat.sessions import ORGANIZATION
from kalamna.config import Settings
from kalamna.ports.security import RateLimitDecision
from kalamna.ports.widget import Budget
from kalamna.web.widget_limits import widget_budgets
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


async def test_each_client_ip_has_its_own_share_under_the_key_ceiling(settings: Settings) -> None:
    limits = msgspec.structs.replace(
        settings, rate_limit_widget_client_requests="3/60", rate_limit_widget_key_requests="5/60"
    )
    redis = make_redis(str(settings.redis_url))
    gate = RedisWidgetGate(redis)
    org = uuid4()

    async def enter(ip: str) -> list[RateLimitDecision]:
        budgets = [
            Budget(b.bucket.replace(ORGANIZATION, str(org)), b.limit, b.window_s)
            for b in widget_budgets(_request(ip), limits)
        ]
        return list((await gate.enter(org, budgets, "t", 60)).decisions)

    try:
        for _ in range(3):
            decisions = await enter("198.51.100.1")
        assert [d.allowed for d in decisions] == [True, True]
        assert decisions[0].limit == 3 and decisions[0].remaining == 0
        noisy = await enter("198.51.100.1")
        # Refused by its own share, and not counted against the key's ceiling (counting stops there).
        assert [d.allowed for d in noisy] == [False]
        # The noisy client is refused; another visitor still gets in, until the key's ceiling.
        assert [d.allowed for d in await enter("198.51.100.2")] == [True, True]
        assert [d.allowed for d in await enter("198.51.100.3")] == [True, True]
        assert [d.allowed for d in await enter("198.51.100.4")] == [True, False]
    finally:
        await redis.aclose()


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
