"""The live event streams, served by a real uvicorn: changes made through another app instance
(another container, as another process would) arrive through Redis pub/sub."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from kalamna.application.conversations.replies import RepliesInFlight
from kalamna.web.app import create_app, web_container
from tests.api.conftest import recording_jobs, shared_container
from tests.api.helpers import World, queued_emails
from tests.api.live_server import ThreadServer, sse
from tests.api.test_chat import api_key, start_session, widget


@pytest.fixture
async def live(settings, clean_state, jobs) -> AsyncIterator[ThreadServer]:  # type: ignore[no-untyped-def]
    fast = msgspec.structs.replace(settings, events_keepalive_s=0.3)
    server = ThreadServer(create_app(fast, shared_container(fast, jobs)))
    server.start()
    yield server
    server.stop()


async def test_customer_and_staff_streams(client: AsyncTestClient, world: World, live: ThreadServer) -> None:
    key = await api_key(client, world.owner)
    session = await start_session(client, key, visitor={"name": "Sara"})
    sid = session["session_id"]
    inbox = f"/api/v1/orgs/{world.org}/conversations"
    async with httpx.AsyncClient(base_url=live.url) as http:
        async with (
            sse(http, f"/api/v1/chat/sessions/{sid}/events", widget(key, session)) as customer,
            sse(http, f"{inbox}/events", world.staff.auth) as staff,
        ):
            # the customer asks (through the other app): staff see it waiting
            asked = await client.post(
                f"/api/v1/chat/sessions/{sid}/handover",
                json={"reason": "refund"},
                headers=widget(key, session),
            )
            assert asked.status_code == 200
            seen = await staff.until("conversation")
            assert (seen["id"], seen["mode"], seen["handover_reason"]) == (sid, "waiting", "refund")
            notice = await customer.until("message")
            assert notice["role"] == "system"
            assert await customer.until("mode") == {"mode": "waiting", "agent_name": None}

            # quiet: keep-alive comments
            await asyncio.sleep(1.0)
            before = customer.comments

            # staff take it and reply: the customer sees both within a second
            started = time.monotonic()
            await client.post(f"{inbox}/{sid}/assign", headers=world.staff.auth)
            assert await customer.until("mode", timeout=1.0) == {
                "mode": "human",
                "agent_name": "Staff Person",
            }
            assert customer.comments > before - 1 and customer.comments >= 2
            reply = await client.post(
                f"{inbox}/{sid}/messages", json={"content": "Hello Sara"}, headers=world.staff.auth
            )
            message = await customer.until("message", timeout=1.0)
            assert time.monotonic() - started < 2.0
            assert message == reply.json()
            assert (message["role"], message["author_name"]) == ("agent", "Staff Person")

            # the staff event is the Conversation exactly as the REST API shows it
            latest = None
            while latest is None or latest["message_count"] != 2:
                latest = await staff.until("conversation")
            detail = (await client.get(f"{inbox}/{sid}", headers=world.staff.auth)).json()
            detail.pop("messages")
            assert latest == detail

            # release, then close: the customer's stream ends after "closed"
            await client.post(f"{inbox}/{sid}/release", headers=world.staff.auth)
            assert (await customer.until("message"))["role"] == "system"
            assert await customer.until("mode") == {"mode": "bot", "agent_name": None}
            await client.post(f"{inbox}/{sid}/close", headers=world.owner.auth)
            assert await customer.until("closed") == {"session_id": sid, "status": "closed"}
            with pytest.raises(EOFError):
                await customer.next()
            statuses = [(await staff.until("conversation"))["status"] for _ in range(2)]
            assert statuses == ["open", "closed"]  # released, then closed

        # a closed conversation's stream says so at once and ends
        async with sse(http, f"/api/v1/chat/sessions/{sid}/events", widget(key, session)) as again:
            assert await again.next() == ("closed", {"session_id": sid, "status": "closed"})


async def test_other_organizations_events_do_not_leak(
    client: AsyncTestClient, world: World, live: ThreadServer
) -> None:
    other_key = await api_key(client, world.other_owner)
    foreign = await start_session(client, other_key)
    async with (
        httpx.AsyncClient(base_url=live.url) as http,
        sse(http, f"/api/v1/orgs/{world.org}/conversations/events", world.owner.auth) as staff,
    ):
        await client.post(
            f"/api/v1/chat/sessions/{foreign['session_id']}/handover", headers=widget(other_key, foreign)
        )
        with pytest.raises(TimeoutError):
            await staff.until("conversation", timeout=1.0)


async def test_streams_end_at_shutdown(
    client: AsyncTestClient, world: World, settings: Any, jobs: Any
) -> None:
    """Draining (what SIGTERM starts, see test_serve_processes) ends the open streams at once."""
    from dishka import Provider, Scope

    in_flight = RepliesInFlight(grace_s=1.0)
    provider = Provider(scope=Scope.APP)
    provider.provide(lambda: in_flight, provides=RepliesInFlight, override=True)
    server = ThreadServer(create_app(settings, web_container(settings, recording_jobs(jobs), provider)))
    server.start()
    async with (
        httpx.AsyncClient(base_url=server.url) as http,
        sse(http, f"/api/v1/orgs/{world.org}/conversations/events", world.staff.auth) as staff,
    ):
        started = time.monotonic()
        server.call_soon(in_flight.drain)
        await asyncio.get_running_loop().run_in_executor(None, server.stop)
        with pytest.raises(EOFError):
            await staff.next(timeout=5)
        assert time.monotonic() - started < 3.0  # the stream did not hold the server up


async def test_no_email_while_someone_watches(
    client: AsyncTestClient, world: World, live: ThreadServer, jobs: Any
) -> None:
    key = await api_key(client, world.owner)
    session = await start_session(client, key)
    async with (
        httpx.AsyncClient(base_url=live.url) as http,
        sse(http, f"/api/v1/orgs/{world.org}/conversations/events", world.staff.auth) as staff,
    ):
        await client.post(
            f"/api/v1/chat/sessions/{session['session_id']}/handover", headers=widget(key, session)
        )
        assert (await staff.until("conversation"))["mode"] == "waiting"
    mails = [m for m in queued_emails(jobs) if "waiting" in m["subject"]]
    assert mails == []


async def test_streams_let_go_when_the_client_leaves(
    client: AsyncTestClient, world: World, settings: Any, jobs: Any
) -> None:
    from dishka import Provider, Scope

    from kalamna.adapters.memory.events import MemoryConversationEvents
    from kalamna.ports.conversations import CUSTOMER, STAFF, ConversationEvents

    events = MemoryConversationEvents()
    provider = Provider(scope=Scope.APP)
    provider.provide(lambda: events, provides=ConversationEvents, override=True)
    server = ThreadServer(create_app(settings, web_container(settings, recording_jobs(jobs), provider)))
    server.start()
    try:
        key = await api_key(client, world.owner)
        session = await start_session(client, key)
        sid = session["session_id"]
        async with httpx.AsyncClient(base_url=server.url) as http:
            async with (
                sse(http, f"/api/v1/chat/sessions/{sid}/events", widget(key, session)),
                sse(http, f"/api/v1/orgs/{world.org}/conversations/events", world.staff.auth),
            ):
                assert events.listeners(CUSTOMER, uuid.UUID(sid)) == 1
                assert events.listeners(STAFF, uuid.UUID(world.org)) == 1
            deadline = time.monotonic() + 5
            while events.listeners(CUSTOMER, uuid.UUID(sid)) or events.listeners(STAFF, uuid.UUID(world.org)):
                assert time.monotonic() < deadline, "a stream kept its subscription after the client left"
                await asyncio.sleep(0.05)
    finally:
        await asyncio.get_running_loop().run_in_executor(None, server.stop)
