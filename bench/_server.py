"""Start `kalamna dev` in a temporary data directory for a benchmark, and stop it afterwards."""

from __future__ import annotations

import contextlib
import email
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from email import policy
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_kalamna(extra_env: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    data_dir = Path(tempfile.mkdtemp(prefix="klm-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALAMNA_")}
    env.update({"KALAMNA_DATA_DIR": str(data_dir), "KALAMNA_LOG_LEVEL": "WARNING", **(extra_env or {})})
    proc = subprocess.Popen(
        [sys.executable, "-m", "kalamna.cli", "dev", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("kalamna dev did not become healthy")
        yield base, data_dir
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for_token(data_dir: Path, to: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted((data_dir / "mail").glob("*.eml")) if (data_dir / "mail").exists() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == to:
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                match = re.search(r"(?:token=|/verify/)([A-Za-z0-9_\-]+)", body.get_content())
                if match:
                    return match.group(1)
        time.sleep(0.1)
    raise RuntimeError(f"no email to {to}")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]
