"""Sections 7 (handover, events) and 10 (the staff inbox) on real PostgreSQL and Redis.

No knowledge is loaded, so every bot reply is the fallback (no model call): the fallback trigger
is exercised by the second message unless a test changes ``handover.after_fallbacks``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.api.helpers import Account, World, queued_emails
from tests.api.test_chat import api_key, parse_sse, start_session, widget

HANDOVER_MESSAGE = "I'm connecting you with a member of our team. Please stay here; they will reply shortly."


def base(org: str) -> str:
    return f"/api/v1/orgs/{org}/conversations"


async def send(client: AsyncTestClient, key: str, session: dict[str, Any], content: str) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/messages",
        json={"content": content},
        headers=widget(key, session),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def configure(client: AsyncTestClient, owner: Account, **handover: Any) -> None:
    response = await client.put(
        f"/api/v1/orgs/{owner.organization_id}/config", json={"handover": handover}, headers=owner.auth
    )
    assert response.status_code == 200, response.text


@pytest.fixture
async def shop(client: AsyncTestClient, world: World) -> dict[str, Any]:
    key = await api_key(client, world.owner)
    return {"key": key, "world": world}


async def test_bot_config_carries_handover(client: AsyncTestClient, world: World) -> None:
    url = f"/api/v1/orgs/{world.org}/config"
    got = (await client.get(url, headers=world.staff.auth)).json()
    assert got["handover"] == {
        "enabled": True,
        "after_fallbacks": 2,
        "message": HANDOVER_MESSAGE,
        "messages": {},
    }
    put = await client.put(url, json={"handover": {"after_fallbacks": 0}}, headers=world.owner.auth)
    assert put.json()["handover"] == {
        "enabled": True,
        "after_fallbacks": 0,
        "message": HANDOVER_MESSAGE,
        "messages": {},
    }
    for bad in ({"after_fallbacks": -1}, {"after_fallbacks": 21}, {"message": ""}, {"colour": 1}):
        response = await client.put(url, json={"handover": bad}, headers=world.owner.auth)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["code"] == "validation_error"
    staff = await client.put(url, json={"handover": {"enabled": False}}, headers=world.staff.auth)
    assert staff.status_code == 403


async def test_handover_call_then_the_bot_is_silent(client: AsyncTestClient, shop: dict[str, Any]) -> None:
    key = shop["key"]
    session = await start_session(client, key)
    assert session["mode"] == "bot"
    url = f"/api/v1/chat/sessions/{session['session_id']}"
    first = await client.post(
        url + "/handover", json={"reason": "  billing   issue "}, headers=widget(key, session)
    )
    assert first.status_code == 200, first.text
    assert first.json() == {"session_id": session["session_id"], "mode": "waiting"}
    again = await client.post(url + "/handover", headers=widget(key, session))
    assert (again.status_code, again.json()["mode"]) == (200, "waiting")

    answer = await send(client, key, session, "Hello? Anyone there?")
    assert (answer["reply"], answer["mode"]) == (None, "waiting")
    assert answer["message"]["role"] == "user"
    streamed = await client.post(
        url + "/messages",
        json={"content": "Still waiting"},
        headers={**widget(key, session), "Accept": "text/event-stream"},
    )
    events = parse_sse(streamed.text)
    assert [e for e, _ in events] == ["done"]
    assert (events[0][1]["reply"], events[0][1]["mode"]) == (None, "waiting")

    history = (await client.get(url + "/messages", headers=widget(key, session))).json()["items"]
    assert [(m["role"], m["content"]) for m in history] == [
        ("system", HANDOVER_MESSAGE),
        ("user", "Hello? Anyone there?"),
        ("user", "Still waiting"),
    ]
    assert all(m["author_name"] is None for m in history)
    world = shop["world"]
    detail = (await client.get(f"{base(world.org)}/{session['session_id']}", headers=world.staff.auth)).json()
    assert (detail["mode"], detail["handover_reason"], detail["message_count"]) == (
        "waiting",
        "billing issue",
        3,
    )
    assert detail["waiting_since"] is not None


async def test_handover_disabled(client: AsyncTestClient, shop: dict[str, Any]) -> None:
    world, key = shop["world"], shop["key"]
    await configure(client, world.owner, enabled=False)
    session = await start_session(client, key)
    refused = await client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/handover", headers=widget(key, session)
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "conflict"
    for text in ("Can I talk to a human?", "I want an agent", "hello", "anything"):
        answer = await send(client, key, session, text)
        assert (answer["reply"]["role"], answer["mode"]) == ("assistant", "bot")


@pytest.mark.parametrize(
    "phrase",
    ["Can I talk to a human?", "أريد التحدث مع موظف", "ابي اكلم موظف", "عايز اكلم حد", "بدي احكي مع موظف"],
    ids=["english", "arabic", "gulf", "egyptian", "levantine"],
)
async def test_a_message_asking_for_a_person(
    client: AsyncTestClient, shop: dict[str, Any], phrase: str
) -> None:
    key, world = shop["key"], shop["world"]
    await configure(client, world.owner, message="لحظة من فضلك")
    session = await start_session(client, key)
    answer = await send(client, key, session, phrase)
    assert answer["mode"] == "waiting"
    assert (answer["reply"]["role"], answer["reply"]["content"]) == ("system", "لحظة من فضلك")
    detail = (await client.get(f"{base(world.org)}/{session['session_id']}", headers=world.owner.auth)).json()
    assert (detail["mode"], detail["handover_reason"]) == ("waiting", "asked")


async def test_fallbacks_in_a_row(client: AsyncTestClient, shop: dict[str, Any]) -> None:
    key, world = shop["key"], shop["world"]
    session = await start_session(client, key)
    first = await send(client, key, session, "Who painted the Mona Lisa?")
    assert (first["reply"]["role"], first["mode"]) == ("assistant", "bot")
    second = await send(client, key, session, "What is the capital of Peru?")
    assert (second["reply"]["role"], second["reply"]["content"], second["mode"]) == (
        "system",
        HANDOVER_MESSAGE,
        "waiting",
    )
    detail = (await client.get(f"{base(world.org)}/{session['session_id']}", headers=world.owner.auth)).json()
    assert detail["handover_reason"] == "fallbacks"
    # 0 = never; 3 = the third.
    await configure(client, world.owner, after_fallbacks=0)
    never = await start_session(client, key)
    for _ in range(4):
        assert (await send(client, key, never, "Unknown thing?"))["mode"] == "bot"
    await configure(client, world.owner, after_fallbacks=3)
    third = await start_session(client, key)
    modes = [(await send(client, key, third, f"Unknown thing {i}?"))["mode"] for i in range(3)]
    assert modes == ["bot", "bot", "waiting"]


async def test_streamed_answer_carries_the_mode(client: AsyncTestClient, shop: dict[str, Any]) -> None:
    key = shop["key"]
    session = await start_session(client, key)
    streamed = await client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/messages",
        json={"content": "Who painted the Mona Lisa?"},
        headers={**widget(key, session), "Accept": "text/event-stream"},
    )
    events = parse_sse(streamed.text)
    assert [e for e, _ in events] == ["delta", "done"]
    assert events[-1][1]["mode"] == "bot"
    assert events[-1][1]["reply"]["role"] == "assistant"
    asked = await client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/messages",
        json={"content": "talk to a person please"},
        headers={**widget(key, session), "Accept": "text/event-stream"},
    )
    events = parse_sse(asked.text)
    assert [e for e, _ in events] == ["done"]
    assert (events[0][1]["mode"], events[0][1]["reply"]["role"]) == ("waiting", "system")


async def test_inbox_assign_reply_release_close(client: AsyncTestClient, shop: dict[str, Any]) -> None:
    key, world = shop["key"], shop["world"]
    owner, staff = world.owner, world.staff
    session = await start_session(
        client, key, visitor={"name": "Sara", "email": "sara@x.test", "locale": "ar"}
    )
    sid = session["session_id"]
    url = f"{base(world.org)}/{sid}"
    await client.post(f"/api/v1/chat/sessions/{sid}/handover", headers=widget(key, session))

    # staff may take it for themselves, not give it to someone else
    to_owner = await client.post(url + "/assign", json={"employee_id": owner.employee_id}, headers=staff.auth)
    assert (to_owner.status_code, to_owner.json()["code"]) == (403, "forbidden")
    mine = await client.post(url + "/assign", headers=staff.auth)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert (body["mode"], body["assigned_to"], body["assigned_name"]) == (
        "human",
        staff.employee_id,
        "Staff Person",
    )
    assert body["visitor"] == {"id": None, "name": "Sara", "email": "sara@x.test", "locale": "ar"}

    # owners may assign anyone active; nobody else
    for bad in (str(uuid.uuid4()), world.other_owner.employee_id):
        refused = await client.post(url + "/assign", json={"employee_id": bad}, headers=owner.auth)
        assert (refused.status_code, refused.json()["code"]) == (422, "validation_error")
    disabled = await client.patch(
        f"/api/v1/orgs/{world.org}/employee/{staff.employee_id}",
        json={"status": "disabled"},
        headers=owner.auth,
    )
    assert disabled.status_code == 200
    inactive = await client.post(url + "/assign", json={"employee_id": staff.employee_id}, headers=owner.auth)
    assert inactive.status_code == 422
    enabled = await client.patch(
        f"/api/v1/orgs/{world.org}/employee/{staff.employee_id}",
        json={"status": "active"},
        headers=owner.auth,
    )
    assert enabled.status_code == 200
    from tests.api.helpers import login

    staff.access_token = (await login(client, staff.email))["access_token"]

    # an agent reply; the customer is silent-botted
    reply = await client.post(url + "/messages", json={"content": "Hi Sara, I am here."}, headers=staff.auth)
    assert reply.status_code == 201, reply.text
    message = reply.json()
    assert (message["role"], message["author_name"], message["session_id"]) == ("agent", "Staff Person", sid)
    for bad in ({"content": ""}, {"content": "x" * 4001}, {}, {"content": "hi", "role": "system"}):
        assert (await client.post(url + "/messages", json=bad, headers=staff.auth)).status_code == 422
    answer = await send(client, key, session, "Thanks!")
    assert (answer["reply"], answer["mode"]) == (None, "human")

    # the owner takes over: staff can no longer reply, the owner always may
    taken = await client.post(url + "/assign", json={"employee_id": owner.employee_id}, headers=owner.auth)
    assert taken.json()["assigned_to"] == owner.employee_id
    conflict = await client.post(url + "/messages", json={"content": "me too"}, headers=staff.auth)
    assert (conflict.status_code, conflict.json()["code"]) == (409, "conflict")
    await client.post(url + "/assign", json={"employee_id": staff.employee_id}, headers=owner.auth)
    assert (
        await client.post(url + "/messages", json={"content": "Owner here"}, headers=owner.auth)
    ).status_code == 201

    # release: back to the bot, the customer is told
    released = await client.post(url + "/release", headers=staff.auth)
    assert released.status_code == 200
    assert (released.json()["mode"], released.json()["assigned_to"], released.json()["assigned_name"]) == (
        "bot",
        None,
        None,
    )
    assert (await client.post(url + "/release", headers=staff.auth)).json()["mode"] == "bot"
    back = await send(client, key, session, "Where is my order?")
    assert (back["reply"]["role"], back["mode"]) == ("assistant", "bot")

    detail = (await client.get(url, headers=owner.auth)).json()
    assert [(m["role"], m["author_name"]) for m in detail["messages"]] == [
        ("system", None),
        ("agent", "Staff Person"),
        ("user", None),
        ("agent", "Owner Org A"),
        ("system", None),
        ("user", None),
        ("assistant", None),
    ]
    assert detail["messages"][4]["content"].startswith("عدت إلى المساعد")  # the visitor's locale is Arabic
    assert detail["message_count"] == 7
    assert detail["last_message_preview"] == detail["messages"][-1]["content"][:140]

    # close: everything after is refused
    closed = await client.post(url + "/close", headers=staff.auth)
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert closed.json()["closed_at"] is not None
    assert (await client.post(url + "/close", headers=staff.auth)).json()["status"] == "closed"
    for path, body in (("/assign", None), ("/messages", {"content": "hello"}), ("/release", None)):
        response = await client.post(url + path, json=body, headers=owner.auth)
        assert (response.status_code, response.json()["code"]) == (409, "session_closed"), path
    late = await client.post(
        f"/api/v1/chat/sessions/{sid}/messages", json={"content": "hi"}, headers=widget(key, session)
    )
    assert (late.status_code, late.json()["code"]) == (409, "session_closed")
    late_handover = await client.post(f"/api/v1/chat/sessions/{sid}/handover", headers=widget(key, session))
    assert (late_handover.status_code, late_handover.json()["code"]) == (409, "session_closed")


async def test_agent_reply_takes_a_bot_conversation(client: AsyncTestClient, shop: dict[str, Any]) -> None:
    key, world = shop["key"], shop["world"]
    session = await start_session(client, key)
    url = f"{base(world.org)}/{session['session_id']}"
    reply = await client.post(url + "/messages", json={"content": "Can I help?"}, headers=world.staff.auth)
    assert reply.status_code == 201
    detail = (await client.get(url, headers=world.staff.auth)).json()
    assert (detail["mode"], detail["assigned_to"], detail["handover_reason"]) == (
        "human",
        world.staff.employee_id,
        "assigned",
    )
    assert (await send(client, key, session, "Yes please"))["reply"] is None


async def test_list_filters_and_search(client: AsyncTestClient, shop: dict[str, Any]) -> None:
    key, world = shop["key"], shop["world"]
    staff, owner = world.staff, world.owner
    a = await start_session(client, key, visitor={"name": "A"})
    b = await start_session(client, key, visitor={"name": "B"})
    c = await start_session(client, key, visitor={"name": "C"})
    await send(client, key, a, "My parcel tracking number is missing")
    await send(client, key, b, "أين طلبي؟ رقم الشحنة لا يعمل")
    await client.post(f"/api/v1/chat/sessions/{b['session_id']}/handover", headers=widget(key, b))
    await client.post(f"{base(world.org)}/{c['session_id']}/assign", headers=staff.auth)
    await client.post(f"{base(world.org)}/{a['session_id']}/close", headers=owner.auth)

    async def ids(query: str, who: Account = staff) -> list[str]:
        response = await client.get(base(world.org) + query, headers=who.auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"])
        return [item["id"] for item in body["items"]]

    # latest activity first: a was closed without a message, so c (assigned) ... by last message time
    everything = await ids("")
    assert set(everything) == {a["session_id"], b["session_id"], c["session_id"]}
    assert everything[0] == b["session_id"]  # the last message was b's (the system notice)
    assert await ids("?status=closed") == [a["session_id"]]
    assert set(await ids("?status=open")) == {b["session_id"], c["session_id"]}
    assert await ids("?mode=waiting") == [b["session_id"]]
    assert await ids("?mode=human") == [c["session_id"]]
    assert await ids("?assigned_to=me") == [c["session_id"]]
    assert await ids("?assigned_to=me", owner) == []
    assert await ids(f"?assigned_to={staff.employee_id}", owner) == [c["session_id"]]
    assert await ids("?q=tracking") == [a["session_id"]]
    assert await ids("?q=TRACKING%20number") == [a["session_id"]]
    assert await ids("?q=طلبي") == [b["session_id"]]
    assert await ids("?q=الشحنه") == [b["session_id"]]  # ta marbuta folded
    assert await ids("?q=nothing-like-this") == []
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()
    assert len(await ids(f"?from={today - timedelta(days=1)}&to={today}")) == 3
    assert len(await ids(f"?to={today}")) == 3
    assert await ids("?from=2000-01-01&to=2000-01-02") == []
    page = (await client.get(base(world.org) + "?limit=2&offset=1", headers=staff.auth)).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 1, 2)
    for bad in (
        "?status=gone",
        "?mode=robot",
        "?assigned_to=someone",
        "?from=yesterday",
        "?limit=0",
        "?limit=101",
    ):
        response = await client.get(base(world.org) + bad, headers=staff.auth)
        assert (response.status_code, response.json()["code"]) == (422, "validation_error"), bad


async def test_message_search_uses_the_full_text_index(client: AsyncTestClient, services: Any) -> None:
    """With 50 000 messages the planner answers ``q`` from the GIN index, not by reading every row."""
    import asyncpg

    conn = await asyncpg.connect(services.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    org, sid = uuid.uuid4(), uuid.uuid4()
    try:
        await conn.execute(
            "INSERT INTO organizations (id, name, status, created_at, updated_at) VALUES ($1, 'Big', 'active', now(), now())",
            org,
        )
        await conn.execute(
            "INSERT INTO chat_sessions (id, organization_id, token_hash, status, created_at, updated_at) "
            "VALUES ($1, $2, 'x', 'open', now(), now())",
            sid,
            org,
        )
        await conn.execute(
            "INSERT INTO chat_messages (id, organization_id, session_id, role, content, search_text, created_at, updated_at) "
            "SELECT gen_random_uuid(), $1, $2, 'user', 'message ' || n, 'message ' || n || "
            "CASE WHEN n % 5000 = 0 THEN ' tracking' ELSE '' END, now(), now() FROM generate_series(1, 50000) n",
            org,
            sid,
        )
        await conn.execute("ANALYZE chat_messages")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                "EXPLAIN SELECT session_id FROM chat_messages WHERE organization_id = $1 "
                "AND search_vector @@ to_tsquery('simple', 'tracking')",
                org,
            )
        )
        found = await conn.fetchval(
            "SELECT count(*) FROM chat_messages WHERE search_vector @@ to_tsquery('simple', 'tracking')"
        )
    finally:
        await conn.close()
    assert "ix_chat_messages_search" in plan, plan
    assert found == 10


async def test_export_csv(client: AsyncTestClient, shop: dict[str, Any]) -> None:
    key, world = shop["key"], shop["world"]
    session = await start_session(
        client, key, visitor={"name": '=HYPERLINK("http://evil")', "email": "s@x.test"}
    )
    await send(client, key, session, "=1+2")
    await send(client, key, session, "@SUM(A1) مرحبا")
    await client.post(
        f"{base(world.org)}/{session['session_id']}/messages",
        json={"content": "-10 dirhams"},
        headers=world.staff.auth,
    )
    response = await client.get(f"{base(world.org)}/export", headers=world.staff.auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    import csv
    import io

    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
        "conversation_id",
        "started_at",
        "visitor",
        "mode",
        "role",
        "author",
        "content",
        "sources",
        "rating",
    ]
    contents = [(r[4], r[6]) for r in rows[1:]]
    assert contents == [
        ("user", "'=1+2"),
        ("assistant", rows[2][6]),
        ("user", "'@SUM(A1) مرحبا"),
        ("system", HANDOVER_MESSAGE),
        ("agent", "'-10 dirhams"),
    ]
    assert rows[1][2].startswith("'=HYPERLINK")
    assert rows[5][5] == "Staff Person"
    assert all(r[0] == session["session_id"] for r in rows[1:])
    empty = await client.get(
        f"{base(world.org)}/export?from=2000-01-01&to=2000-01-02", headers=world.owner.auth
    )
    assert list(csv.reader(io.StringIO(empty.content.decode("utf-8-sig")))) == [rows[0]]


async def test_credentials_and_tenants(client: AsyncTestClient, shop: dict[str, Any]) -> None:
    key, world = shop["key"], shop["world"]
    session = await start_session(client, key)
    sid = session["session_id"]
    mine = base(world.org)
    routes: list[tuple[str, str, Any]] = [
        ("GET", mine, None),
        ("GET", f"{mine}/{sid}", None),
        ("POST", f"{mine}/{sid}/assign", None),
        ("POST", f"{mine}/{sid}/messages", {"content": "hello"}),
        ("POST", f"{mine}/{sid}/release", None),
        ("POST", f"{mine}/{sid}/close", None),
        ("GET", f"{mine}/export", None),
        ("GET", f"{mine}/events", None),
    ]
    for method, url, body in routes:
        missing = await client.request(method, url, json=body)
        assert (missing.status_code, missing.json()["code"]) == (401, "not_authenticated"), url
        bad = await client.request(method, url, json=body, headers={"Authorization": "Bearer nope"})
        assert bad.status_code in (400, 401), url
        other = await client.request(method, url, json=body, headers=world.other_owner.auth)
        assert (other.status_code, other.json()["code"]) == (404, "not_found"), url
    # another organization's conversation through one's own organization: 404
    other_key = await api_key(client, world.other_owner)
    foreign = await start_session(client, other_key)
    for method, suffix, body in (
        ("GET", "", None),
        ("POST", "/assign", None),
        ("POST", "/messages", {"content": "hello"}),
        ("POST", "/release", None),
        ("POST", "/close", None),
    ):
        response = await client.request(
            method, f"{mine}/{foreign['session_id']}{suffix}", json=body, headers=world.owner.auth
        )
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), suffix
    # the superuser handles any organization's conversations
    su = await client.get(f"{mine}/{sid}", headers=world.superuser.auth)
    assert su.status_code == 200
    # the widget routes: key, then the session token
    for path in ("/handover", "/events"):
        method = "POST" if path == "/handover" else "GET"
        url = f"/api/v1/chat/sessions/{sid}{path}"
        assert (await client.request(method, url)).status_code == 401
        assert (await client.request(method, url, headers={"X-API-Key": "klm_nope"})).status_code == 401
        cross = {"X-API-Key": other_key, "X-Session-Token": session["session_token"]}
        assert (await client.request(method, url, headers=cross)).status_code == 404
        wrong = {"X-API-Key": key, "X-Session-Token": foreign["session_token"]}
        assert (await client.request(method, url, headers=wrong)).status_code == 404
    bad_reason = await client.post(
        f"/api/v1/chat/sessions/{sid}/handover", json={"reason": "x" * 501}, headers=widget(key, session)
    )
    assert bad_reason.status_code == 422


async def test_handover_analytics(client: AsyncTestClient, shop: dict[str, Any], services: Any) -> None:
    import asyncpg

    key, world = shop["key"], shop["world"]
    inbox = base(world.org)
    first, second, asked, plain = [await start_session(client, key) for _ in range(4)]
    for s in (first, second):
        await client.post(f"/api/v1/chat/sessions/{s['session_id']}/handover", headers=widget(key, s))
        await client.post(
            f"{inbox}/{s['session_id']}/messages", json={"content": "Hi"}, headers=world.staff.auth
        )
    question = await send(client, key, asked, "Can I speak to a human?")
    await send(client, key, plain, "Hello")
    conn = await asyncpg.connect(services.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:  # make the waits 30 s and 90 s
        for s, wait in ((first, 30), (second, 90)):
            await conn.execute(
                "UPDATE chat_handovers SET requested_at = first_response_at - make_interval(secs => $2) "
                "WHERE session_id = $1",
                uuid.UUID(s["session_id"]),
                wait,
            )
    finally:
        await conn.close()
    figures = (await client.get(f"/api/v1/orgs/{world.org}/analytics", headers=world.staff.auth)).json()
    assert figures["handover"] == {
        "count": 3,
        "rate": 0.75,
        "first_response_p50_s": 60.0,
        "first_response_p95_s": 87.0,
    }
    unanswered = (
        await client.get(f"/api/v1/orgs/{world.org}/analytics/unanswered", headers=world.owner.auth)
    ).json()["items"]
    by_question = {item["message_id"]: item for item in unanswered}
    handed = by_question[question["message"]["id"]]
    assert (handed["reason"], handed["question"], handed["reply_id"]) == (
        "handover",
        "Can I speak to a human?",
        question["reply"]["id"],
    )
    other = await client.get(f"/api/v1/orgs/{world.org}/analytics", headers=world.other_owner.auth)
    assert other.status_code == 404


def waiting_emails(jobs: Any) -> list[str]:
    return sorted(
        m["to"] for m in queued_emails(jobs) if m["subject"] == "A customer is waiting for a person"
    )


async def test_waiting_customer_emails_staff_once(
    client: AsyncTestClient, shop: dict[str, Any], jobs: Any
) -> None:
    key, world = shop["key"], shop["world"]
    session = await start_session(client, key, visitor={"name": "Sara"})
    sid = session["session_id"]
    await client.post(f"/api/v1/chat/sessions/{sid}/handover", headers=widget(key, session))
    assert waiting_emails(jobs) == ["owner@a.test", "staff@a.test"]  # nobody had the console open
    email = next(m for m in queued_emails(jobs) if m["to"] == "staff@a.test" and "waiting" in m["subject"])
    assert f"/conversations/{sid}" in email["text"]
    assert "Sara" in email["text"]
    # the same conversation waiting again: no second email
    await client.post(f"{base(world.org)}/{sid}/release", headers=world.owner.auth)
    await send(client, key, session, "I want to talk to a human")
    assert waiting_emails(jobs) == ["owner@a.test", "staff@a.test"]
    # another conversation (through the fallback trigger): its own email
    other = await start_session(client, key)
    await send(client, key, other, "Unknown thing one?")
    await send(client, key, other, "Unknown thing two?")
    assert waiting_emails(jobs) == ["owner@a.test", "owner@a.test", "staff@a.test", "staff@a.test"]
