"""Browser tests: the real app under uvicorn on a free port, host pages on other origins, and a real
headless Chromium driven by Playwright.

Chromium comes from Debian (``apt-get install -y chromium``); Playwright cannot download browsers here.
Without it the tests are skipped with that instruction, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Services, wipe

CHROMIUM = os.environ.get("KALAMNA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL = "Browser tests need Chromium: run `apt-get update && apt-get install -y chromium` (as root)."
PASSWORD = "correct horse battery staple"


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing under CI. {INSTALL}", pytrace=False)
    pytest.skip(INSTALL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class HostPages:
    """A tiny web server on its own origin that serves the pages a test registers."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wipe(services: Services) -> None:
    """Empty every table and Redis (the browser tests share one seeded app per module)."""
    asyncio.run(wipe(services))


def query(database_url: str, sql: str, *args: Any) -> list[Any]:
    async def run() -> list[Any]:
        import asyncpg

        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return in_thread(run)


def in_thread(make: Any) -> Any:
    """asyncio.run of ``make()`` in a thread of its own (Playwright's sync API owns this thread's loop)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@dataclass
class Stack:
    api: str
    settings: Any
    app: Any
    key: str
    org: str
    owner_email: str
    owner_password: str
    host: HostPages  # an allowed origin
    stranger: HostPages  # an origin that is not allowed
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    _token: str | None = None

    @property
    def auth(self) -> dict[str, str]:
        if self._token is None:
            self._token = self.login(self.owner_email, self.owner_password)
        return {"Authorization": f"Bearer {self._token}"}

    def login(self, email: str, password: str) -> str:
        response = self.client.post(
            f"{self.api}/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def snippet(self, key: str | None = None) -> str:
        return f'<script src="{self.api}/widget.js" data-api-key="{key or self.key}" async></script>'

    def host_page(
        self, path: str, *, lang: str = "en", css: str = "", body: str = "", stranger: bool = False
    ) -> str:
        server = self.stranger if stranger else self.host
        direction = "rtl" if lang == "ar" else "ltr"
        server.pages[path] = (
            f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
            f"<title>Shop</title><style>{css}</style></head><body><h1>Our shop</h1>{body}"
            f"{self.snippet()}</body></html>"
        )
        return server.url + path

    def add_entry(self, title: str, content: str) -> str:
        response = self.client.post(
            f"{self.api}/api/v1/orgs/{self.org}/knowledge-bases",
            json={"title": title, "content": content},
            headers=self.auth,
        )
        assert response.status_code == 201, response.text
        entry_id: str = response.json()["id"]
        self.wait_ready(entry_id)
        return entry_id

    def wait_ready(self, entry_id: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.client.get(
                f"{self.api}/api/v1/orgs/{self.org}/knowledge-bases/{entry_id}", headers=self.auth
            ).json()
            if body["status"] == "ready":
                return
            assert body["status"] != "failed", body
            time.sleep(0.2)
        raise AssertionError(f"entry {entry_id} never became ready")

    def mail_to(self, address: str, after: float = 0.0, timeout: float = 30) -> str:
        """The plain-text body of the newest email to ``address`` written after ``after``."""
        import email
        from email import policy

        outbox = Path(self.settings.data_dir) / "mail"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            paths = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime) if outbox.exists() else []
            for path in reversed(paths):
                if path.stat().st_mtime < after:
                    continue
                message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
                if message["To"] == address:
                    part = message.get_body(preferencelist=("plain",))
                    assert part is not None
                    text: str = part.get_content()
                    return text
            time.sleep(0.1)
        raise AssertionError(f"no email to {address}")


@pytest.fixture(scope="module")
def stack(services: Any) -> Iterator[Stack]:
    """The app (real PostgreSQL, Redis, SAQ worker) seeded with the demo organization of `kalamna dev`."""
    import uvicorn

    from kalamna.web.app import create_app, web_container
    from kalamna.web.demo import demo_handlers, ensure_demo
    from tests.conftest import make_test_settings

    require_chromium()
    _wipe(services)
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="klm-browser-"))
    settings = make_test_settings(services, data_dir, port=port, public_url=None, host="127.0.0.1")
    assert settings.base_url == f"http://127.0.0.1:{port}"
    demo = asyncio.run(ensure_demo(settings))
    assert demo.owner_password is not None
    app = create_app(
        settings, web_container(settings), run_worker=True, top_level_handlers=demo_handlers(demo)
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.05)
    host, stranger = HostPages(), HostPages()
    api = f"http://127.0.0.1:{port}"
    org = query(services.database_url, "SELECT id FROM organizations")[0]["id"]
    built = Stack(
        api, settings, app, demo.api_key, str(org), demo.owner_email, demo.owner_password, host, stranger
    )
    response = built.client.put(
        f"{api}/api/v1/orgs/{org}/config",
        json={"widget": {"allowed_origins": [host.url, api]}},
        headers=built.auth,
    )
    assert response.status_code == 200, response.text
    entries = built.client.get(f"{api}/api/v1/orgs/{org}/knowledge-bases", headers=built.auth).json()
    for entry in entries["items"]:
        built.wait_ready(entry["id"])
    try:
        yield built
    finally:
        built.client.close()
        host.close()
        stranger.close()
        server.should_exit = True
        thread.join(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (empty localStorage) per test; page errors fail the test."""
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors
