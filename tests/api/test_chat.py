"""Section 7 (and /internal/ai/generate): the widget against real PostgreSQL, Redis and the offline
models, with an in-process worker so that knowledge really gets ingested."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from kalamna.web.app import create_app
from tests.api.conftest import shared_container
from tests.api.helpers import Account, live_account, wait_for_status
from tests.conftest import make_test_settings

SHIPPING = (
    "We deliver to every country in the Gulf. Standard delivery takes three business days. "
    "Express delivery arrives the next day for an extra fee of 25 dirhams."
)
RETURNS_AR = "يمكنك إرجاع أي منتج خلال ثلاثين يوما من تاريخ الشراء واسترداد المبلغ كاملا."


async def add_entry(client: AsyncTestClient, account: Account, title: str, content: str) -> str:
    response = await client.post(
        f"/api/v1/orgs/{account.organization_id}/knowledge-bases",
        json={"title": title, "content": content},
        headers=account.auth,
    )
    assert response.status_code == 201, response.text
    entry = await wait_for_status(client, account, response.json()["id"])
    assert entry["status"] == "ready", entry
    return str(entry["id"])


async def api_key(client: AsyncTestClient, account: Account) -> str:
    response = await client.post(f"/api/v1/orgs/{account.organization_id}/credentials", headers=account.auth)
    return str(response.json()["api_key"])


async def start_session(client: AsyncTestClient, key: str, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/chat/sessions", json=body, headers={"X-API-Key": key})
    assert response.status_code == 201, response.text
    return dict(response.json())


def widget(key: str, session: dict[str, Any] | None = None) -> dict[str, str]:
    headers = {"X-API-Key": key}
    if session:
        headers["X-Session-Token"] = session["session_token"]
    return headers


def parse_sse(raw: str) -> list[tuple[str, Any]]:
    events = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((lines["event"], json.loads(lines["data"])))
    return events


@pytest.fixture
async def shop(live_client: AsyncTestClient, settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    owner = await live_account(live_client, settings, "owner@shop.test", "Shop")
    entry_id = await add_entry(live_client, owner, "Delivery", SHIPPING)
    returns_id = await add_entry(live_client, owner, "سياسة الإرجاع", RETURNS_AR)
    key = await api_key(live_client, owner)
    return {"owner": owner, "key": key, "entry_id": entry_id, "returns_id": returns_id}


async def test_session_and_grounded_answer(live_client: AsyncTestClient, shop: dict[str, Any]) -> None:
    session = await start_session(
        live_client,
        shop["key"],
        visitor={"name": "Sara", "locale": "ar"},
        metadata={"page_url": "https://shop.example/p/1"},
    )
    assert session["status"] == "open"
    assert len(session["session_token"]) >= 43
    assert session["welcome_message"]
    url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
    response = await live_client.post(
        url, json={"content": "How long does express shipping take?"}, headers=widget(shop["key"], session)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["message"]["role"] == "user"
    assert body["reply"]["role"] == "assistant"
    assert "next day" in body["reply"]["content"]
    assert [s["entry_id"] for s in body["reply"]["sources"]] == [shop["entry_id"]]
    # Arabic question, Arabic answer.
    arabic = await live_client.post(
        url, json={"content": "هل يمكنني إرجاع المنتج واسترداد المال؟"}, headers=widget(shop["key"], session)
    )
    assert arabic.status_code == 201
    assert "ثلاثين" in arabic.json()["reply"]["content"]
    history = await live_client.get(url, headers=widget(shop["key"], session))
    assert [m["role"] for m in history.json()["items"]] == ["user", "assistant", "user", "assistant"]
    assert (history.json()["total"], history.json()["limit"], history.json()["offset"]) == (4, 20, 0)


async def test_unanswerable_question_gets_the_fallback(
    live_client: AsyncTestClient, shop: dict[str, Any]
) -> None:
    config = await live_client.get(
        f"/api/v1/orgs/{shop['owner'].organization_id}/config", headers=shop["owner"].auth
    )
    session = await start_session(live_client, shop["key"])
    response = await live_client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/messages",
        json={"content": "Who painted the Mona Lisa?"},
        headers=widget(shop["key"], session),
    )
    assert response.status_code == 201
    reply = response.json()["reply"]
    assert reply["content"] == config.json()["fallback_message"]
    assert reply["sources"] == []


async def test_streaming_equals_stored(live_client: AsyncTestClient, shop: dict[str, Any]) -> None:
    session = await start_session(live_client, shop["key"])
    url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
    response = await live_client.post(
        url,
        json={"content": "What does express delivery cost?"},
        headers={**widget(shop["key"], session), "Accept": "text/event-stream"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done"
    assert kinds.count("delta") >= 2
    assert set(kinds[:-1]) == {"delta"}
    streamed = "".join(data["text"] for kind, data in events if kind == "delta")
    done = events[-1][1]
    assert done["reply"]["content"] == streamed
    assert "25" in streamed
    history = (await live_client.get(url, headers=widget(shop["key"], session))).json()["items"]
    assert history[-1]["content"] == streamed
    assert history[-1]["id"] == done["reply"]["id"]


async def test_credentials(live_client: AsyncTestClient, shop: dict[str, Any], settings) -> None:  # type: ignore[no-untyped-def]
    session = await start_session(live_client, shop["key"])
    url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
    question = {"content": "Hello?"}
    assert (await live_client.post("/api/v1/chat/sessions", json={})).status_code == 401
    assert (
        await live_client.post("/api/v1/chat/sessions", json={}, headers={"X-API-Key": "klm_nope"})
    ).status_code == 401
    # No session token: 401 naming the header (issue 9 item 13).
    assert (await live_client.post(url, json=question, headers={"X-API-Key": shop["key"]})).status_code == 401
    other = await start_session(live_client, shop["key"])
    wrong_token = {"X-API-Key": shop["key"], "X-Session-Token": other["session_token"]}
    assert (await live_client.post(url, json=question, headers=wrong_token)).status_code == 404
    assert (await live_client.get(url, headers=wrong_token)).status_code == 404
    # Another organization's key cannot reach this session even with the right token.
    rival = await live_account(live_client, settings, "owner@rival.test", "Rival")
    rival_key = await api_key(live_client, rival)
    cross = {"X-API-Key": rival_key, "X-Session-Token": session["session_token"]}
    assert (await live_client.get(url, headers=cross)).status_code == 404
    assert (await live_client.post(url, json=question, headers=cross)).status_code == 404
    # A bearer token is not a widget credential.
    assert (
        await live_client.post("/api/v1/chat/sessions", json={}, headers=shop["owner"].auth)
    ).status_code == 401


async def test_validation(live_client: AsyncTestClient, shop: dict[str, Any]) -> None:
    session = await start_session(live_client, shop["key"])
    url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
    headers = widget(shop["key"], session)
    for bad in ({"content": ""}, {"content": "x" * 4001}, {"content": "hi", "role": "assistant"}, {}):
        assert (await live_client.post(url, json=bad, headers=headers)).status_code == 422, bad
    assert (await live_client.post(url, json={"content": "   "}, headers=headers)).status_code == 422
    assert (
        await live_client.post(
            "/api/v1/chat/sessions", json={"visitor": {"admin": True}}, headers=widget(shop["key"])
        )
    ).status_code == 422


async def test_close_and_feedback(live_client: AsyncTestClient, shop: dict[str, Any]) -> None:
    session = await start_session(live_client, shop["key"])
    base = f"/api/v1/chat/sessions/{session['session_id']}"
    headers = widget(shop["key"], session)
    exchange = (
        await live_client.post(
            f"{base}/messages", json={"content": "Do you deliver to Oman?"}, headers=headers
        )
    ).json()
    reply_id = exchange["reply"]["id"]
    for bad in (
        {"rating": 0},
        {"rating": 6},
        {"rating": "five"},
        {"rating": 3, "message_id": str(uuid.uuid4())},
    ):
        assert (await live_client.post(f"{base}/feedback", json=bad, headers=headers)).status_code == 422, bad
    token_only = {"X-Session-Token": session["session_token"]}
    feedback = await live_client.post(
        f"{base}/feedback", json={"rating": 5, "comment": "Great", "message_id": reply_id}, headers=token_only
    )
    assert feedback.status_code == 201, feedback.text
    assert feedback.json()["rating"] == 5
    assert feedback.json()["message_id"] == reply_id
    assert (
        await live_client.post(f"{base}/feedback", json={"rating": 4}, headers={"X-Session-Token": "wrong"})
    ).status_code == 404
    closed = await live_client.post(f"{base}/close", headers=headers)
    assert closed.json() == {"session_id": session["session_id"], "status": "closed"}
    refused = await live_client.post(f"{base}/messages", json={"content": "Still there?"}, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "session_closed"
    # The refused message was not stored.
    history = (await live_client.get(f"{base}/messages", headers=headers)).json()
    assert history["total"] == 2


async def test_cors_follows_allowed_origins(live_client: AsyncTestClient, shop: dict[str, Any]) -> None:
    owner = shop["owner"]
    await live_client.put(
        f"/api/v1/orgs/{owner.organization_id}/config",
        json={"widget": {"allowed_origins": ["https://shop.example"]}},
        headers=owner.auth,
    )
    good = {"X-API-Key": shop["key"], "Origin": "https://shop.example"}
    evil = {"X-API-Key": shop["key"], "Origin": "https://evil.example"}
    ok = await live_client.get("/api/v1/chat/config", headers=good)
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    read = await live_client.get("/api/v1/chat/config", headers=evil)
    assert "access-control-allow-origin" not in read.headers
    write = await live_client.post("/api/v1/chat/sessions", json={}, headers=evil)
    assert write.status_code == 403
    assert "access-control-allow-origin" not in write.headers
    created = await live_client.post("/api/v1/chat/sessions", json={}, headers=good)
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == "https://shop.example"
    preflight = await live_client.options(
        "/api/v1/chat/sessions",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )
    assert preflight.status_code == 204
    assert "x-api-key" in preflight.headers["access-control-allow-headers"]


async def test_internal_generate(live_client: AsyncTestClient, shop: dict[str, Any], settings) -> None:  # type: ignore[no-untyped-def]
    org = shop["owner"].organization_id
    headers = {"X-Internal-Token": settings.internal_token}
    grounded = await live_client.post(
        "/api/v1/internal/ai/generate",
        json={"organization_id": org, "message": "How much is express delivery?"},
        headers=headers,
    )
    assert grounded.status_code == 200, grounded.text
    body = grounded.json()
    assert "25" in body["reply"]
    assert body["sources"][0]["entry_id"] == shop["entry_id"]
    assert body["usage"]["prompt_tokens"] > 0
    given = await live_client.post(
        "/api/v1/internal/ai/generate",
        json={
            "organization_id": org,
            "message": "What colour is the logo?",
            "context": "The logo is dark green with a white moon.",
            "history": [{"role": "user", "content": "hi"}],
        },
        headers=headers,
    )
    assert "green" in given.json()["reply"]
    assert (
        await live_client.post("/api/v1/internal/ai/generate", json={"organization_id": org, "message": "x"})
    ).status_code == 401
    owner = await live_client.post(
        "/api/v1/internal/ai/generate",
        json={"organization_id": org, "message": "x"},
        headers=shop["owner"].auth,
    )
    assert owner.status_code == 403


@pytest.fixture
async def limited_client(services, clean_state, tmp_path: Path) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    settings = make_test_settings(services, tmp_path / "data", rate_limit_widget_session_messages="3/60")
    app = create_app(settings, shared_container(settings), run_worker=True)
    async with AsyncTestClient(app, timeout=60) as client:
        client.app.state.test_settings = settings
        yield client


async def test_session_rate_limit(limited_client: AsyncTestClient) -> None:
    settings = limited_client.app.state.test_settings
    owner = await live_account(limited_client, settings, "rl@shop.test", "RL")
    key = await api_key(limited_client, owner)
    session = await start_session(limited_client, key)
    url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
    for i in range(3):
        response = await limited_client.post(
            url, json={"content": f"question {i}"}, headers=widget(key, session)
        )
        assert response.status_code == 201
        assert response.headers["x-ratelimit-limit"] == "3"
    limited = await limited_client.post(url, json={"content": "one more"}, headers=widget(key, session))
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) > 0
    # Another session of the same key has its own budget.
    other = await start_session(limited_client, key)
    assert (
        await limited_client.post(
            f"/api/v1/chat/sessions/{other['session_id']}/messages",
            json={"content": "hi"},
            headers=widget(key, other),
        )
    ).status_code == 201
