"""Section 12: webhooks — CRUD, the secret, SSRF refusal, tenant isolation, and real deliveries to a
local HTTP receiver through SAQ jobs (signature, retry, give-up, no redirects)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.ports.jobs import DELIVER_WEBHOOK
from kalamna.web.app import create_app
from tests.api.conftest import RecordingJobs, shared_container
from tests.api.helpers import Account, World, live_account, wait_for_status
from tests.conftest import make_test_settings
from tests.fakes.webhook_receiver import WebhookReceiver


@pytest.fixture
def settings(services, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Private targets allowed (the receiver is on 127.0.0.1); fast retries and timeouts."""
    return make_test_settings(
        services,
        tmp_path / "data",
        webhook_allow_private_targets=True,
        webhook_retry_base_s=0.0,
        webhook_timeout_s=1.0,
        webhook_max_attempts=3,
    )


@pytest.fixture
async def strict_client(services, tmp_path: Path, world: World) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    """The same database, with private targets refused (the deployer did not allow them)."""
    strict = make_test_settings(services, tmp_path / "strict", webhook_allow_private_targets=False)
    app = create_app(strict, shared_container(strict, RecordingJobs()))
    async with AsyncTestClient(app) as test_client:
        yield test_client


def hooks(account: Account) -> str:
    return f"/api/v1/orgs/{account.organization_id}/webhooks"


async def create_hook(
    client: AsyncTestClient, account: Account, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        hooks(account),
        json={"url": url, "events": events or ["feedback.created"], "description": "CRM"},
        headers=account.auth,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def verify(secret: str, header: str, body: bytes) -> int:
    """What a receiver does (docs/webhooks.md): recompute the HMAC over "<t>.<body>"."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"]), "signature does not verify"
    return int(fields["t"])


async def wait_for_delivery(
    client: AsyncTestClient, account: Account, hook_id: str, statuses: tuple[str, ...], timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"{hooks(account)}/{hook_id}/deliveries", headers=account.auth)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if items and items[0]["status"] in statuses:
            return dict(items[0])
        if time.monotonic() > deadline:
            raise AssertionError(f"delivery stuck: {items}")
        await asyncio.sleep(0.1)


# --- CRUD, validation, the secret ------------------------------------------------------------------


async def test_create_list_delete_and_secret_shown_once(
    client: AsyncTestClient, world: World, services
) -> None:  # type: ignore[no-untyped-def]
    created = await create_hook(client, world.owner, "http://127.0.0.1:9/hook", ["feedback.created", "ping"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 43  # 32 random bytes
    assert created["events"] == ["feedback.created", "ping"]
    assert created["active"] is True and created["description"] == "CRM"

    listed = (await client.get(hooks(world.owner), headers=world.owner.auth)).json()
    assert listed["total"] == 1 and listed["limit"] == 20 and listed["offset"] == 0
    assert listed["items"][0]["id"] == created["id"]
    assert "secret" not in listed["items"][0]

    conn = await asyncpg.connect(services.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        stored = await conn.fetchval(
            "SELECT encrypted_secret FROM webhooks WHERE id = $1", uuid.UUID(created["id"])
        )
    finally:
        await conn.close()
    assert stored.startswith("v1.") and secret not in stored and secret.removeprefix("whsec_") not in stored

    gone = await client.delete(f"{hooks(world.owner)}/{created['id']}", headers=world.owner.auth)
    assert gone.status_code == 204
    assert (await client.get(hooks(world.owner), headers=world.owner.auth)).json()["total"] == 0
    again = await client.delete(f"{hooks(world.owner)}/{created['id']}", headers=world.owner.auth)
    assert again.status_code == 404 and again.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/x", "events": ["ping"]},
        {"url": "http://", "events": ["ping"]},
        {"url": "http://user:pw@127.0.0.1/x", "events": ["ping"]},
        {"url": "not a url", "events": ["ping"]},
        {"url": "http://127.0.0.1/x", "events": []},
        {"url": "http://127.0.0.1/x", "events": ["order.created"]},
        {"url": "http://127.0.0.1/x", "events": ["ping"], "secret": "mine"},
        {"url": "http://127.0.0.1/x", "events": "ping"},
        {"url": "http://127.0.0.1:99999/x", "events": ["ping"]},
        {"url": "http://no-such-host.invalid/x", "events": ["ping"]},
        {"url": "http://exa\x00mple.com/x", "events": ["ping"]},
        {"url": "http://" + "a" * 300 + ".com/x", "events": ["ping"]},
        {"url": "http://[::1/x", "events": ["ping"]},
        {"url": "http://exa mple.com/x", "events": ["ping"]},
        {"url": "http://ä" + "\u200b" * 70 + ".test/x", "events": ["ping"]},
        {"url": "http://127.0.0.1/x", "events": ["ping"], "description": "d" * 501},
        {"url": "h" * 2001, "events": ["ping"]},
    ],
)
async def test_invalid_webhooks_are_422(client: AsyncTestClient, world: World, body: dict[str, Any]) -> None:
    response = await client.post(hooks(world.owner), json=body, headers=world.owner.auth)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:a01:203]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "https://[fe80::1]/hook",
    ],
)
async def test_private_targets_are_refused_when_not_allowed(
    strict_client: AsyncTestClient, world: World, url: str
) -> None:
    response = await strict_client.post(
        hooks(world.owner), json={"url": url, "events": ["ping"]}, headers=world.owner.auth
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["extra"]["fields"][0]["key"] == "url"
    listed = await strict_client.get(hooks(world.owner), headers=world.owner.auth)
    assert listed.json()["total"] == 0


async def test_tenant_isolation_and_roles(
    client: AsyncTestClient, world: World, jobs: MemoryJobQueue
) -> None:
    created = await create_hook(client, world.owner, "http://127.0.0.1:9/hook")
    one = f"{hooks(world.owner)}/{created['id']}"
    requests = [
        ("GET", hooks(world.owner), None),
        ("POST", hooks(world.owner), {"url": "http://127.0.0.1:9/x", "events": ["ping"]}),
        ("GET", f"{one}/deliveries", None),
        ("POST", f"{one}/test", None),
        ("DELETE", one, None),
    ]
    for method, url, body in requests:
        other = await client.request(method, url, json=body, headers=world.other_owner.auth)
        assert other.status_code == 404 and other.json()["code"] == "not_found", (method, url, other.text)
        staff = await client.request(method, url, json=body, headers=world.staff.auth)
        assert staff.status_code == 403 and staff.json()["code"] == "forbidden", (method, url, staff.text)
        anonymous = await client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, url)
    # B's owner addressing A's webhook through B's own organization: still not found.
    b_one = f"{hooks(world.other_owner)}/{created['id']}"
    for method, url in (("GET", f"{b_one}/deliveries"), ("POST", f"{b_one}/test"), ("DELETE", b_one)):
        response = await client.request(method, url, headers=world.other_owner.auth)
        assert response.status_code == 404, (method, url, response.text)
    assert (await client.get(hooks(world.other_owner), headers=world.other_owner.auth)).json()["total"] == 0
    # The superuser may act in any organization; nothing leaked into B, the webhook is intact.
    assert (await client.get(hooks(world.owner), headers=world.superuser.auth)).json()["total"] == 1
    missing_org = f"/api/v1/orgs/{uuid.uuid4()}/webhooks"
    response = await client.post(
        missing_org, json={"url": "http://127.0.0.1:9/x", "events": ["ping"]}, headers=world.superuser.auth
    )
    assert response.status_code == 404
    assert not [j for j in jobs.jobs if j.task == DELIVER_WEBHOOK]


async def test_ping_queues_one_job_carrying_only_the_delivery_id(
    client: AsyncTestClient, world: World, jobs: MemoryJobQueue
) -> None:
    created = await create_hook(client, world.owner, "http://127.0.0.1:9/hook")
    response = await client.post(f"{hooks(world.owner)}/{created['id']}/test", headers=world.owner.auth)
    assert response.status_code == 202, response.text
    delivery_id = response.json()["delivery_id"]
    queued = [j for j in jobs.jobs if j.task == DELIVER_WEBHOOK]
    assert len(queued) == 1
    assert queued[0].kwargs == {"delivery_id": delivery_id}
    log = (
        await client.get(f"{hooks(world.owner)}/{created['id']}/deliveries", headers=world.owner.auth)
    ).json()
    assert log["total"] == 1
    item = log["items"][0]
    assert item["id"] == delivery_id and item["event"] == "ping" and item["status"] == "pending"
    assert item["attempts"] == 0 and item["response_status"] is None and item["last_attempt_at"] is None


# --- Real deliveries: SAQ worker → local receiver ------------------------------------------------


@pytest.fixture
async def live_owner(live_client: AsyncTestClient, settings) -> Account:  # type: ignore[no-untyped-def]
    return await live_account(live_client, settings, "owner@hooks.test", "Hooks")


async def test_ping_arrives_signed(live_client: AsyncTestClient, live_owner: Account) -> None:
    with WebhookReceiver() as receiver:
        created = await create_hook(live_client, live_owner, receiver.url)
        sent_at = int(time.time())
        ping = await live_client.post(f"{hooks(live_owner)}/{created['id']}/test", headers=live_owner.auth)
        assert ping.status_code == 202
        delivery = await wait_for_delivery(live_client, live_owner, created["id"], ("succeeded", "failed"))
    assert delivery["status"] == "succeeded", delivery
    assert delivery["attempts"] == 1 and delivery["response_status"] == 200 and delivery["error"] is None
    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert request.path == "/hook"
    assert request.headers["Kalamna-Event"] == "ping"
    assert request.headers["Kalamna-Delivery"] == ping.json()["delivery_id"] == delivery["id"]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Host"] == f"127.0.0.1:{receiver.port}"
    timestamp = verify(created["secret"], request.headers["Kalamna-Signature"], request.body)
    assert abs(timestamp - sent_at) <= 30
    payload = json.loads(request.body)
    assert set(payload) == {"id", "type", "created_at", "organization_id", "data"}
    assert payload["type"] == "ping" and payload["organization_id"] == live_owner.organization_id
    assert payload["data"]["webhook_id"] == created["id"]
    with pytest.raises(AssertionError):  # a different secret does not verify
        verify("whsec_wrong", request.headers["Kalamna-Signature"], request.body)


async def test_500_then_200_is_retried(live_client: AsyncTestClient, live_owner: Account) -> None:
    with WebhookReceiver(script=[500]) as receiver:
        created = await create_hook(live_client, live_owner, receiver.url)
        await live_client.post(f"{hooks(live_owner)}/{created['id']}/test", headers=live_owner.auth)
        delivery = await wait_for_delivery(live_client, live_owner, created["id"], ("succeeded", "failed"))
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 2
    assert delivery["response_status"] == 200
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first.body == second.body  # the same event, signed again
    assert first.headers["Kalamna-Delivery"] == second.headers["Kalamna-Delivery"]
    verify(created["secret"], second.headers["Kalamna-Signature"], second.body)


@pytest.mark.slow
async def test_receiver_that_never_answers_ends_failed(
    live_client: AsyncTestClient, live_owner: Account
) -> None:
    with WebhookReceiver(script=["hang", "hang", "hang", "hang"], hang_s=3) as receiver:
        created = await create_hook(live_client, live_owner, receiver.url)
        await live_client.post(f"{hooks(live_owner)}/{created['id']}/test", headers=live_owner.auth)
        delivery = await wait_for_delivery(live_client, live_owner, created["id"], ("succeeded", "failed"))
        assert delivery["status"] == "failed", delivery
        assert delivery["attempts"] == 3  # webhook_max_attempts
        assert delivery["response_status"] is None
        assert "timed out" in delivery["error"]
        assert delivery["last_attempt_at"] is not None
        assert len(receiver.received) == 3


async def test_redirect_is_not_followed(live_client: AsyncTestClient, live_owner: Account) -> None:
    script = [("redirect", "/landed")] * 3
    with WebhookReceiver(script=script) as receiver:
        created = await create_hook(live_client, live_owner, receiver.url)
        await live_client.post(f"{hooks(live_owner)}/{created['id']}/test", headers=live_owner.auth)
        delivery = await wait_for_delivery(live_client, live_owner, created["id"], ("succeeded", "failed"))
    assert delivery["status"] == "failed"
    assert delivery["response_status"] == 302
    assert "redirects are not followed" in delivery["error"]
    assert receiver.paths() == ["/hook", "/hook", "/hook"]  # never /landed


async def test_use_cases_emit_knowledge_and_feedback_events(
    live_client: AsyncTestClient, live_owner: Account
) -> None:
    with WebhookReceiver() as receiver:
        created = await create_hook(
            live_client, live_owner, receiver.url, ["knowledge.entry_ready", "feedback.created"]
        )
        other = await create_hook(
            live_client, live_owner, receiver.url + "/other", ["knowledge.entry_failed"]
        )
        entry = await live_client.post(
            f"/api/v1/orgs/{live_owner.organization_id}/knowledge-bases",
            json={"title": "الشحن", "content": "نشحن إلى جميع دول الخليج خلال ثلاثة أيام عمل."},
            headers=live_owner.auth,
        )
        assert entry.status_code == 201, entry.text
        await wait_for_status(live_client, live_owner, entry.json()["id"])
        key = (
            await live_client.post(
                f"/api/v1/orgs/{live_owner.organization_id}/credentials", headers=live_owner.auth
            )
        ).json()["api_key"]
        session = (
            await live_client.post("/api/v1/chat/sessions", json={}, headers={"X-API-Key": key})
        ).json()
        feedback = await live_client.post(
            f"/api/v1/chat/sessions/{session['session_id']}/feedback",
            json={"rating": 4, "comment": "شكرا"},
            headers={"X-API-Key": key, "X-Session-Token": session["session_token"]},
        )
        assert feedback.status_code == 201, feedback.text
        deadline = time.monotonic() + 30
        while len(receiver.received) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
    events = {r.headers["Kalamna-Event"]: r for r in receiver.received}
    assert sorted(events) == ["feedback.created", "knowledge.entry_ready"]
    assert all(r.path == "/hook" for r in receiver.received)  # the entry_failed-only webhook got nothing
    ready = json.loads(events["knowledge.entry_ready"].body)
    assert ready["data"]["entry_id"] == entry.json()["id"] and ready["data"]["title"] == "الشحن"
    assert ready["data"]["status"] == "ready" and ready["data"]["chunk_count"] >= 1
    given = json.loads(events["feedback.created"].body)
    assert given["data"]["rating"] == 4 and given["data"]["comment"] == "شكرا"
    assert given["data"]["session_id"] == session["session_id"]
    for request in receiver.received:
        verify(created["secret"], request.headers["Kalamna-Signature"], request.body)
    other_log = await live_client.get(
        f"{hooks(live_owner)}/{other['id']}/deliveries", headers=live_owner.auth
    )
    assert other_log.json()["total"] == 0
