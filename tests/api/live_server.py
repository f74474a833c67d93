"""The app served by a real uvicorn in a background thread: SSE streams arrive as they are sent
(the Litestar test client buffers a whole response, so it cannot read an endless stream)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn


class _Server(uvicorn.Server):
    loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)


class ThreadServer:
    def __init__(self, app: Any) -> None:
        self._app = app
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app, log_config=None, access_log=False, timeout_graceful_shutdown=5)
        self._server = _Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def call_soon(self, callback: Any) -> None:
        """Run ``callback`` in the server's event loop (what a signal handler would do)."""
        assert self._server is not None and self._server.loop is not None
        self._server.loop.call_soon_threadsafe(callback)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)


class EventReader:
    """Reads an SSE response event by event; comments are counted."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self.comments = 0

    async def next(self, timeout: float = 5.0) -> tuple[str, Any]:
        async def read() -> tuple[str, Any]:
            name, data = "message", ""
            async for line in self._lines:
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and data:
                    return name, json.loads(data)
            raise EOFError("the stream ended")

        return await asyncio.wait_for(read(), timeout)

    async def until(self, name: str, timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            event, data = await self.next(max(0.01, deadline - time.monotonic()))
            if event == name:
                return data


@asynccontextmanager
async def sse(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> AsyncIterator[EventReader]:
    async with client.stream("GET", url, headers=headers, timeout=30) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventReader(response)
