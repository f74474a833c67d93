"""Issue 9, item 2: failed-attempt budgets that hold under concurrency, and the Basic-auth cache."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from kalamna.adapters.memory.jobs import MemoryJobQueue
from tests.api.helpers import PASSWORD, register, signed_up
from tests.api.test_superuser import ROOT_EMAIL, ROOT_PASSWORD, basic, make_superuser

pytestmark = pytest.mark.usefixtures("clean_state")


async def test_concurrent_logins_cannot_exceed_the_failure_budget(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    await register(client, jobs, "burst@acme.test")
    bodies = [{"email": "burst@acme.test", "password": f"wrong guess {i}"} for i in range(39)]
    bodies.append({"email": "burst@acme.test", "password": PASSWORD})
    responses = await asyncio.gather(*(client.post("/api/v1/auth/login", json=b) for b in bodies))
    statuses = [r.status_code for r in responses]
    assert statuses.count(429) >= 30, statuses
    assert statuses.count(401) + statuses.count(200) <= 10, statuses
    assert set(statuses) <= {200, 401, 429}


async def test_concurrent_basic_logins_cannot_exceed_the_failure_budget(
    client: AsyncTestClient,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    await make_superuser(settings)
    headers = [basic(ROOT_EMAIL, f"wrong guess {i}") for i in range(39)] + [basic(ROOT_EMAIL, ROOT_PASSWORD)]
    responses = await asyncio.gather(*(client.get("/admin/queues/api/queues", headers=h) for h in headers))
    assert {r.status_code for r in responses} <= {200, 401}
    # Exactly ten attempts were let through to the password check; the rest were refused unverified.
    redis = Redis.from_url(settings.redis_url)
    try:
        keys = await redis.keys("kalamna:rl:login-fail:*")
        assert len(keys) == 1
        assert int(await redis.get(keys[0])) == 10 - statuses_ok(responses)
    finally:
        await redis.aclose()
    login = await client.post("/api/v1/auth/login", json={"email": ROOT_EMAIL, "password": ROOT_PASSWORD})
    assert login.status_code == (200 if statuses_ok(responses) else 429)


def statuses_ok(responses: list[Any]) -> int:
    return sum(r.status_code == 200 for r in responses)


async def test_wrong_current_passwords_are_limited(client: AsyncTestClient, jobs: MemoryJobQueue) -> None:
    account = await signed_up(client, jobs, "guess@acme.test")
    body = {"current_password": "not the password", "new_password": "a brand new passphrase"}
    for attempt in range(10):
        response = await client.post("/api/v1/auth/password/change", json=body, headers=account.auth)
        assert response.status_code == 400
        assert response.headers["x-ratelimit-remaining"] == str(9 - attempt)
    right = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    limited = await client.post("/api/v1/auth/password/change", json=right, headers=account.auth)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) > 0


async def test_superuser_password_change_ends_the_basic_auth_cache(
    client: AsyncTestClient,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    await make_superuser(settings)
    assert (
        await client.get("/admin/queues/api/queues", headers=basic(ROOT_EMAIL, ROOT_PASSWORD))
    ).status_code == 200
    tokens = (
        await client.post("/api/v1/auth/login", json={"email": ROOT_EMAIL, "password": ROOT_PASSWORD})
    ).json()
    changed = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": ROOT_PASSWORD, "new_password": "another superuser passphrase"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert changed.status_code == 200
    old = await client.get("/admin/queues/api/queues", headers=basic(ROOT_EMAIL, ROOT_PASSWORD))
    assert old.status_code == 401
    new = await client.get(
        "/admin/queues/api/queues", headers=basic(ROOT_EMAIL, "another superuser passphrase")
    )
    assert new.status_code == 200
