"""Issue 16, item 1: a Redis crash loses no queued job and no revocation.

The embedded Redis keeps an append-only file fsynced every second; revocations live in PostgreSQL
and are copied back into Redis when Redis lost them (the marker key is gone) or restarted (its
run_id changed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from kalamna.adapters.queue.saq_queue import make_queue
from kalamna.embedded import EmbeddedRedis
from kalamna.web.app import create_app
from tests.api.conftest import shared_container
from tests.api.helpers import Account, live_account, login, wait_for_status
from tests.conftest import make_test_settings
from tests.reliability.conftest import kill_redis

pytestmark = pytest.mark.slow

API = "/api/v1"


async def _me(client: AsyncTestClient, account: Account) -> tuple[int, str | None]:
    response = await client.get(f"{API}/auth/me", headers=account.auth)
    return response.status_code, response.json().get("code")


async def _signed_in_twice(client: AsyncTestClient, settings) -> tuple[Account, Account]:  # type: ignore[no-untyped-def]
    first = await live_account(client, settings, "owner@crash.test", "Crash Org")
    tokens = await login(client, first.email)
    second = Account(
        first.email,
        first.password,
        first.organization_id,
        first.employee_id,
        tokens["access_token"],
        tokens["refresh_token"],
    )
    return first, second


async def _queue_entries(client: AsyncTestClient, account: Account, count: int) -> list[str]:
    ids = []
    for n in range(count):
        response = await client.post(
            f"{API}/orgs/{account.organization_id}/knowledge-bases",
            json={"title": f"Policy {n}", "content": f"Refunds take {n + 3} days. Shipping is free."},
            headers=account.auth,
        )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending"
        ids.append(response.json()["id"])
    return ids


async def test_kill9_keeps_queued_jobs_and_a_revoked_token(
    services, clean_state, own_redis: EmbeddedRedis, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_test_settings(services, tmp_path / "data", redis_url=own_redis.url)
    async with AsyncTestClient(
        create_app(settings, shared_container(settings), run_worker=True), timeout=60
    ) as c:
        revoked, kept = await _signed_in_twice(c, settings)
        logout = await c.post(
            f"{API}/auth/logout", json={"refresh_token": revoked.refresh_token}, headers=revoked.auth
        )
        assert logout.status_code == 204
    # No worker now: five ingestion jobs wait in Redis.
    async with AsyncTestClient(create_app(settings, shared_container(settings))) as c:
        ids = await _queue_entries(c, kept, 5)
        assert await _me(c, revoked) == (401, "token_revoked")
    await asyncio.sleep(2.5)  # appendfsync everysec (a loaded machine may delay it up to 2 s)
    kill_redis(own_redis)
    own_redis.start()  # the pid file names a dead process: a fresh server replays the AOF

    queue = make_queue(own_redis.url, settings.queue_name)
    try:
        assert await queue.count("queued") == 5
        async with AsyncTestClient(
            create_app(settings, shared_container(settings), run_worker=True), timeout=60
        ) as c:
            assert await _me(c, revoked) == (401, "token_revoked")
            assert (await _me(c, kept))[0] == 200
            for entry_id in ids:
                assert (await wait_for_status(c, kept, entry_id))["status"] == "ready"
        # Each job ran exactly once.
        for entry_id in ids:
            job = await queue.job(f"ingest:{entry_id}:1")
            assert job is not None
            assert (job.status.value, job.attempts) == ("complete", 1)
    finally:
        await queue.disconnect()


async def test_revocation_lost_by_a_restart_is_restored_from_postgres(
    services, clean_state, own_redis: EmbeddedRedis, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A kill -9 may lose the last second of writes although the marker survives: the new run_id
    makes every process re-fill from PostgreSQL before it trusts Redis again."""
    settings = make_test_settings(services, tmp_path / "data", redis_url=own_redis.url)
    async with AsyncTestClient(
        create_app(settings, shared_container(settings), run_worker=True), timeout=60
    ) as c:
        revoked, kept = await _signed_in_twice(c, settings)
    async with AsyncTestClient(create_app(settings, shared_container(settings))) as c:
        # A logout, then a crash that loses the last second of writes.
        other = await login(c, kept.email)
        logout = await c.post(
            f"{API}/auth/logout", json={"refresh_token": revoked.refresh_token}, headers=revoked.auth
        )
        assert logout.status_code == 204
        await asyncio.sleep(2.5)  # persisted: the test removes the keys itself
        kill_redis(own_redis)
        own_redis.start()
        redis = Redis.from_url(own_redis.url)
        try:  # simulate the lost last second: the keys are gone, the marker is not
            keys = [k async for k in redis.scan_iter("kalamna:revoked:*") if not k.endswith(b":loaded")]
            assert keys
            await redis.delete(*keys)
            assert await redis.exists("kalamna:revoked:loaded") == 1
        finally:
            await redis.aclose()
        assert await _me(c, revoked) == (401, "token_revoked")
        assert (await _me(c, Account(kept.email, "", "", "", other["access_token"], "")))[0] == 200


async def test_redis_that_lost_everything_still_refuses_and_the_reconciler_requeues(
    services, clean_state, own_redis: EmbeddedRedis, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A Redis without persistence (or a fail-over to an empty one): revocations come back from
    PostgreSQL; the lost ingestion jobs are queued again by the reconciler at worker start."""
    settings = make_test_settings(services, tmp_path / "data", redis_url=own_redis.url)
    async with AsyncTestClient(
        create_app(settings, shared_container(settings), run_worker=True), timeout=60
    ) as c:
        revoked, kept = await _signed_in_twice(c, settings)
        assert (
            await c.post(
                f"{API}/auth/logout", json={"refresh_token": revoked.refresh_token}, headers=revoked.auth
            )
        ).status_code == 204
    async with AsyncTestClient(create_app(settings, shared_container(settings))) as c:
        ids = await _queue_entries(c, kept, 3)
    own_redis.stop()
    for name in ("appendonly.aof", "dump.rdb"):
        (own_redis.directory / name).unlink(missing_ok=True)
    own_redis.start()
    queue = make_queue(own_redis.url, settings.queue_name)
    try:
        assert await queue.count("queued") == 0  # every job is gone
    finally:
        await queue.disconnect()
    # Ten minutes pass (the reconciler's grace for a pending entry whose job may still be queued).
    conn = await asyncpg.connect(services.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("UPDATE knowledge_entries SET updated_at = updated_at - interval '11 minutes'")
    finally:
        await conn.close()
    async with AsyncTestClient(
        create_app(settings, shared_container(settings), run_worker=True), timeout=60
    ) as c:
        assert await _me(c, revoked) == (401, "token_revoked")
        for entry_id in ids:
            body = await wait_for_status(c, kept, entry_id)
            assert (body["status"], body["error"]) == ("ready", None)
    conn = await asyncpg.connect(services.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        attempts = await conn.fetch("SELECT ingest_attempts FROM knowledge_entries")
    finally:
        await conn.close()
    assert [r["ingest_attempts"] for r in attempts] == [1, 1, 1]
