"""Section 12 events of conversations: ``conversation.waiting`` / ``.assigned`` / ``.closed`` and
``message.created``, emitted by the use cases after their commit, read from the ``webhook_deliveries``
rows (jobs are recorded, not run). No knowledge is loaded: every bot reply is the fallback."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from tests.api.helpers import World
from tests.api.test_chat import api_key, start_session, widget
from tests.api.test_conversations import HANDOVER_MESSAGE, base, send
from tests.api.test_webhooks import create_hook
from tests.conftest import make_test_settings

CONVERSATION_EVENTS = [
    "conversation.waiting",
    "conversation.assigned",
    "conversation.closed",
    "message.created",
]


@pytest.fixture
def settings(services, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_test_settings(services, tmp_path / "data", webhook_allow_private_targets=True)


class Deliveries:
    """The delivery rows of one webhook, read in order; ``new()`` returns those since the last call."""

    def __init__(self, conn: asyncpg.Connection, webhook_id: str) -> None:
        self._conn = conn
        self._webhook_id = uuid.UUID(webhook_id)
        self._seen = 0

    async def all(self) -> list[dict[str, Any]]:
        rows = await self._conn.fetch(
            "SELECT event, body FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at, id",
            self._webhook_id,
        )
        bodies = [json.loads(r["body"]) for r in rows]
        assert [r["event"] for r in rows] == [b["type"] for b in bodies]
        return bodies

    async def new(self, expect: int = 0) -> list[dict[str, Any]]:
        """The events since the last call; with ``expect``, waits (up to 10 s) until that many are
        there: a bot reply is announced by the task that saved it, which may finish after the
        HTTP response went out."""
        deadline = time.monotonic() + 10
        bodies = await self.all()
        while len(bodies) - self._seen < expect and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            bodies = await self.all()
        fresh, self._seen = bodies[self._seen :], len(bodies)
        return fresh


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(type, the message's role or the conversation's mode) of each event."""
    return [
        (e["type"], e["data"]["message"]["role"] if e["type"] == "message.created" else e["data"]["mode"])
        for e in events
    ]


@pytest.fixture
async def hooks(client: AsyncTestClient, world: World, services: Any) -> AsyncIterator[dict[str, Any]]:
    conn = await asyncpg.connect(services.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        every = await create_hook(client, world.owner, "http://127.0.0.1:9/all", CONVERSATION_EVENTS)
        closed = await create_hook(client, world.owner, "http://127.0.0.1:9/closed", ["conversation.closed"])
        other = await create_hook(client, world.other_owner, "http://127.0.0.1:9/b", CONVERSATION_EVENTS)
        yield {
            "key": await api_key(client, world.owner),
            "all": Deliveries(conn, every["id"]),
            "closed": Deliveries(conn, closed["id"]),
            "other": Deliveries(conn, other["id"]),
        }
    finally:
        await conn.close()


async def test_handover_call_assign_agent_reply_and_staff_close(
    client: AsyncTestClient, world: World, hooks: dict[str, Any]
) -> None:
    key, every = hooks["key"], hooks["all"]
    session = await start_session(client, key, visitor={"name": "Sara"})
    sid = session["session_id"]
    url = f"{base(world.org)}/{sid}"

    answer = await send(client, key, session, "Who painted the Mona Lisa?")
    events = await every.new(expect=2)
    assert summary(events) == [("message.created", "user"), ("message.created", "assistant")]
    for event, message in zip(events, (answer["message"], answer["reply"]), strict=True):
        assert event["organization_id"] == world.org
        assert event["data"] == {"conversation_id": sid, "message": message}

    assert (await client.post(f"/api/v1/chat/sessions/{sid}/handover", headers=widget(key, session))).json()[
        "mode"
    ] == "waiting"
    events = await every.new()
    assert summary(events) == [("message.created", "system"), ("conversation.waiting", "waiting")]
    assert events[0]["data"]["message"]["content"] == HANDOVER_MESSAGE
    waiting = events[1]["data"]
    assert (waiting["id"], waiting["status"], waiting["handover_reason"], waiting["assigned_to"]) == (
        sid,
        "open",
        "requested",
        None,
    )
    assert waiting["visitor"]["name"] == "Sara" and waiting["waiting_since"] is not None
    await client.post(f"/api/v1/chat/sessions/{sid}/handover", headers=widget(key, session))
    assert await every.new() == []  # already waiting: nothing new

    assigned = await client.post(url + "/assign", headers=world.staff.auth)
    assert assigned.status_code == 200, assigned.text
    events = await every.new()
    assert summary(events) == [("conversation.assigned", "human")]
    assert events[0]["data"] == assigned.json()  # the contract's Conversation, as the staff API gives it
    assert (events[0]["data"]["assigned_to"], events[0]["data"]["assigned_name"]) == (
        world.staff.employee_id,
        "Staff Person",
    )

    reply = await client.post(url + "/messages", json={"content": "Hi Sara"}, headers=world.staff.auth)
    assert reply.status_code == 201, reply.text
    events = await every.new()
    assert summary(events) == [("message.created", "agent")]  # already theirs: no new assignment
    assert events[0]["data"] == {"conversation_id": sid, "message": reply.json()}

    customer = await send(client, key, session, "Thanks!")
    events = await every.new()
    assert summary(events) == [("message.created", "user")]
    assert events[0]["data"]["message"] == customer["message"]

    closed = await client.post(url + "/close", headers=world.staff.auth)
    assert closed.status_code == 200
    events = await every.new()
    assert summary(events) == [("conversation.closed", "human")]
    assert events[0]["data"] == closed.json()
    assert events[0]["data"]["status"] == "closed"
    await client.post(url + "/close", headers=world.staff.auth)
    assert await every.new() == []  # already closed

    only_closed = await hooks["closed"].all()
    assert [(e["type"], e["data"]["id"]) for e in only_closed] == [("conversation.closed", sid)]
    assert await hooks["other"].all() == []  # another organization's webhook hears nothing


async def test_phrase_trigger_then_customer_closes(
    client: AsyncTestClient, world: World, hooks: dict[str, Any]
) -> None:
    key, every = hooks["key"], hooks["all"]
    session = await start_session(client, key)
    sid = session["session_id"]
    answer = await send(client, key, session, "talk to a person please")
    assert answer["mode"] == "waiting"
    events = await every.new()
    assert summary(events) == [
        ("message.created", "user"),
        ("message.created", "system"),
        ("conversation.waiting", "waiting"),
    ]
    assert [e["data"]["message"] for e in events[:2]] == [answer["message"], answer["reply"]]
    assert (events[2]["data"]["id"], events[2]["data"]["handover_reason"]) == (sid, "asked")

    closed = await client.post(f"/api/v1/chat/sessions/{sid}/close", headers=widget(key, session))
    assert closed.status_code == 200, closed.text
    events = await every.new()
    assert summary(events) == [("conversation.closed", "waiting")]
    assert (events[0]["data"]["id"], events[0]["data"]["status"]) == (sid, "closed")
    assert len(await hooks["closed"].all()) == 1
    assert await hooks["other"].all() == []


async def test_fallbacks_in_a_row_and_an_agent_reply_taking_a_bot_conversation(
    client: AsyncTestClient, world: World, hooks: dict[str, Any]
) -> None:
    key, every = hooks["key"], hooks["all"]
    session = await start_session(client, key)
    sid = session["session_id"]
    await send(client, key, session, "Who painted the Mona Lisa?")
    second = await send(client, key, session, "What is the capital of Peru?")
    assert second["mode"] == "waiting"
    events = await every.new(expect=5)
    assert summary(events) == [
        ("message.created", "user"),
        ("message.created", "assistant"),
        ("message.created", "user"),
        ("message.created", "system"),
        ("conversation.waiting", "waiting"),
    ]
    assert events[3]["data"]["message"] == second["reply"]
    assert (events[4]["data"]["id"], events[4]["data"]["handover_reason"]) == (sid, "fallbacks")

    fresh = await start_session(client, key)
    url = f"{base(world.org)}/{fresh['session_id']}"
    reply = await client.post(url + "/messages", json={"content": "Can I help?"}, headers=world.staff.auth)
    assert reply.status_code == 201, reply.text
    events = await every.new()
    assert summary(events) == [("message.created", "agent"), ("conversation.assigned", "human")]
    assert events[0]["data"] == {"conversation_id": fresh["session_id"], "message": reply.json()}
    assert (events[1]["data"]["id"], events[1]["data"]["assigned_to"]) == (
        fresh["session_id"],
        world.staff.employee_id,
    )

    # the owner hands it to themselves: a new assignment; the same assignee again: none
    mine = await client.post(
        url + "/assign", json={"employee_id": world.owner.employee_id}, headers=world.owner.auth
    )
    assert mine.status_code == 200
    again = await client.post(
        url + "/assign", json={"employee_id": world.owner.employee_id}, headers=world.owner.auth
    )
    assert again.status_code == 200
    events = await every.new()
    assert [(e["type"], e["data"]["assigned_to"]) for e in events] == [
        ("conversation.assigned", world.owner.employee_id)
    ]
    assert await hooks["closed"].all() == []
    assert await hooks["other"].all() == []
