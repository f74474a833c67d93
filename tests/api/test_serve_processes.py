"""Real ``kalamna serve`` processes sharing the session's PostgreSQL and Redis: live events cross
processes, and SIGTERM in the middle of a streamed reply loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from tests.api.helpers import World
from tests.api.live_server import sse
from tests.api.test_chat import SHIPPING, add_entry, api_key, start_session, widget
from tests.conftest import Services
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.slow

KALAMNA = str(Path(sys.executable).parent / "kalamna")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Serve:
    """``kalamna serve`` in a child process, with the test settings' secrets."""

    def __init__(self, services: Services, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"serve-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        environment = {
            **os.environ,
            "KALAMNA_ENV": "test",
            "KALAMNA_DATA_DIR": str(data_dir),
            "KALAMNA_DATABASE_URL": services.database_url,
            "KALAMNA_REDIS_URL": services.redis_url,
            "KALAMNA_JWT_SECRET": "test-jwt-secret-" + "x" * 32,
            "KALAMNA_INTERNAL_TOKEN": "test-internal-token-" + "y" * 32,
            "KALAMNA_DATABASE_POOL_SIZE": "3",
            "KALAMNA_LOG_FORMAT": "text",
            **env,
        }
        self.process = subprocess.Popen(
            [KALAMNA, "serve", "--port", str(self.port)],
            env=environment,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=2).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve never answered: {self.log.read_text()}")

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout: float = 30) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"serve did not stop on SIGTERM: {self.log.read_text()}") from None


@pytest.fixture
def serving() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for server in started:
        server.terminate()
    for server in started:
        if server.process.poll() is None:
            try:
                server.process.wait(30)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


async def test_two_processes_share_live_events(
    client: AsyncTestClient, world: World, services: Services, tmp_path: Path, serving: list[Serve]
) -> None:
    serving.extend(Serve(services, tmp_path / name, KALAMNA_EVENTS_KEEPALIVE_S="1") for name in ("a", "b"))
    a, b = serving
    await asyncio.gather(*(asyncio.to_thread(s.wait_ready) for s in serving))
    key = await api_key(client, world.owner)
    session = await start_session(client, key, visitor={"name": "Sara"})
    sid = session["session_id"]
    inbox = f"/api/v1/orgs/{world.org}/conversations"
    async with httpx.AsyncClient(base_url=a.url) as on_a, httpx.AsyncClient(base_url=b.url) as on_b:
        async with (
            sse(on_a, f"/api/v1/chat/sessions/{sid}/events", widget(key, session)) as customer,
            sse(on_b, f"{inbox}/events", world.staff.auth) as staff,
        ):
            # the customer's handover request through A reaches the staff console on B
            asked = await on_a.post(f"/api/v1/chat/sessions/{sid}/handover", headers=widget(key, session))
            assert asked.status_code == 200, asked.text
            seen = await staff.until("conversation", timeout=2)
            assert (seen["id"], seen["mode"]) == (sid, "waiting")
            assert (await customer.until("message"))["role"] == "system"  # "a person is coming"
            assert await customer.until("mode") == {"mode": "waiting", "agent_name": None}

            # an agent reply posted through B reaches the customer streaming from A within a second
            sent_at = time.monotonic()
            reply = await on_b.post(
                f"{inbox}/{sid}/messages", json={"content": "Hi, I'm here"}, headers=world.staff.auth
            )
            assert reply.status_code == 201, reply.text
            message = await customer.until("message", timeout=1.0)
            latency = time.monotonic() - sent_at
            print(f"agent reply via B to the customer's stream on A: {latency * 1000:.0f} ms (POST included)")
            assert latency < 1.0
            assert message == reply.json()

            # SIGTERM to A ends the customer's open stream cleanly and A stops promptly
            stopping = time.monotonic()
            a.terminate()
            with pytest.raises(EOFError):
                await customer.until("never", timeout=10)
        code = await asyncio.to_thread(a.wait_exit)
        assert code in (0, -signal.SIGTERM), a.log.read_text()
        print(f"SIGTERM to exit with an open stream: {time.monotonic() - stopping:.2f} s")
        assert time.monotonic() - stopping < 10


LONG_REPLY = " ".join(f"Express delivery detail number {n}." for n in range(1, 61))


@pytest.fixture
def slow_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(reply=LONG_REPLY, token_delay_s=0.1) as server:  # 240 pieces: about 24 s
        yield server


async def test_sigterm_during_a_streamed_reply_keeps_it(
    live_client: AsyncTestClient,
    settings: Any,
    services: Services,
    tmp_path: Path,
    slow_llm: FakeOpenAI,
    serving: list[Serve],
) -> None:
    from tests.api.helpers import live_account

    owner = await live_account(live_client, settings, "owner@slow.test", "Slow Shop")
    await add_entry(live_client, owner, "Delivery", SHIPPING)
    key = await api_key(live_client, owner)
    session = await start_session(live_client, key)
    server = Serve(
        services,
        tmp_path / "serve",
        KALAMNA_LLM_PROVIDER="openai",
        KALAMNA_EMBEDDING_PROVIDER="offline",
        KALAMNA_OPENAI_BASE_URL=slow_llm.base_url,
        KALAMNA_REPLY_DRAIN_S="1",
    )
    serving.append(server)
    await asyncio.to_thread(server.wait_ready)
    url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
    received: list[str] = []
    events: list[tuple[str, Any]] = []
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=60) as http,
        http.stream(
            "POST",
            url,
            json={"content": "How fast is express shipping?"},
            headers={**widget(key, session), "Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.status_code == 200
        import json

        name = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                events.append((name, data))
                if name == "delta":
                    received.append(data["text"])
                    if len(received) == 5:
                        server.terminate()  # mid-reply
    assert [n for n, _ in events].count("delta") >= 5
    assert events[-1][0] == "error", events[-3:]
    assert (events[-1][1]["status_code"], events[-1][1]["code"]) == (503, "service_unavailable")
    code = await asyncio.to_thread(server.wait_exit)
    assert code in (0, -signal.SIGTERM), server.log.read_text()

    history = (await live_client.get(url, headers=widget(key, session))).json()["items"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    stored = history[1]
    assert stored["interrupted"] is True
    assert stored["content"] == "".join(received)  # exactly what the customer saw
    assert 0 < len(stored["content"]) < len(LONG_REPLY)


async def test_sigterm_waits_for_a_reply_that_finishes_in_time(
    live_client: AsyncTestClient,
    settings: Any,
    services: Services,
    tmp_path: Path,
    serving: list[Serve],
) -> None:
    """A reply shorter than the drain grace completes: the customer gets ``done`` and it is stored whole."""
    import json

    from tests.api.helpers import live_account

    short = "Express delivery arrives the next day for twenty five dirhams, in every Gulf country we serve."
    with FakeOpenAI(reply=short, token_delay_s=0.15) as llm:  # about 2.5 s
        owner = await live_account(live_client, settings, "owner@drain.test", "Drain Shop")
        await add_entry(live_client, owner, "Delivery", SHIPPING)
        key = await api_key(live_client, owner)
        session = await start_session(live_client, key)
        server = Serve(
            services,
            tmp_path / "serve",
            KALAMNA_LLM_PROVIDER="openai",
            KALAMNA_EMBEDDING_PROVIDER="offline",
            KALAMNA_OPENAI_BASE_URL=llm.base_url,
            KALAMNA_REPLY_DRAIN_S="15",
        )
        serving.append(server)
        await asyncio.to_thread(server.wait_ready)
        url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
        names: list[str] = []
        done: dict[str, Any] = {}
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=60) as http,
            http.stream(
                "POST",
                url,
                json={"content": "How fast is express shipping?"},
                headers={**widget(key, session), "Accept": "text/event-stream"},
            ) as response,
        ):
            name = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                    names.append(name)
                    if names.count("delta") == 1:
                        server.terminate()
                elif line.startswith("data: ") and name == "done":
                    done = json.loads(line[6:])
        assert names[-1] == "done"
        assert done["reply"]["content"] == short
        assert done["reply"]["interrupted"] is False
        assert await asyncio.to_thread(server.wait_exit) in (0, -signal.SIGTERM)
    history = (await live_client.get(url, headers=widget(key, session))).json()["items"]
    assert [(m["role"], m["content"]) for m in history][-1] == ("assistant", short)
