"""`kalamna dev` end to end: seeds the demo once, serves /demo, and mails links naming its real port."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _start(env: dict[str, str], port: int) -> tuple[asyncio.subprocess.Process, list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kalamna.cli",
        "dev",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    async with asyncio.timeout(120):
        while True:
            raw = await proc.stdout.readline()
            assert raw, "kalamna dev exited:\n" + "".join(lines)
            lines.append(raw.decode())
            if "Demo shop with the chat widget" in lines[-1]:
                break
    # The one-time password block comes right after the ready lines.
    try:
        async with asyncio.timeout(1.5):
            while raw := await proc.stdout.readline():
                lines.append(raw.decode())
    except TimeoutError:
        pass
    return proc, lines


async def _stop(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGINT)
    async with asyncio.timeout(60):
        await proc.communicate()


async def test_dev_seeds_the_demo_once_and_links_use_its_port(services, clean_state, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALAMNA_")}
    env |= {
        "KALAMNA_DATABASE_URL": services.database_url,
        "KALAMNA_REDIS_URL": services.redis_url,
        "KALAMNA_DATA_DIR": str(tmp_path / "data"),
        "KALAMNA_JWT_SECRET": "j" * 40,
        "KALAMNA_INTERNAL_TOKEN": "i" * 40,
    }
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc, lines = await _start(env, port)
    try:
        output = "".join(lines)
        assert f"Demo shop with the chat widget: {base}/demo" in output
        password = re.search(r"password: (\S+)", output)
        assert password, output
        assert "email:    owner@demo.kalamna.dev" in output
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            demo = await client.get("/demo")
            assert demo.status_code == 200
            key = re.search(r'data-api-key="(klm_[^"]+)"', demo.text)
            assert key
            assert (await client.get("/api/v1/chat/config", headers={"X-API-Key": key.group(1)})).json()[
                "bot_name"
            ] == "Nour"
            login = await client.post(
                "/api/v1/auth/login", json={"email": "owner@demo.kalamna.dev", "password": password.group(1)}
            )
            assert login.status_code == 200, login.text
            forgot = await client.post(
                "/api/v1/auth/password/forgot", json={"email": "owner@demo.kalamna.dev"}
            )
            assert forgot.status_code == 202
            mail_dir = tmp_path / "data" / "mail"
            async with asyncio.timeout(30):
                while not (mail_dir.exists() and list(mail_dir.glob("*.eml"))):
                    await asyncio.sleep(0.1)
            mail = next(mail_dir.glob("*.eml")).read_text()
            assert f"{base}/reset-password?token=" in mail
    finally:
        await _stop(proc)

    # A second start reuses the organization and its key, and prints no password.
    proc, lines = await _start(env, port)
    try:
        assert "password:" not in "".join(lines)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            assert key.group(1) in (await client.get("/demo")).text
    finally:
        await _stop(proc)
