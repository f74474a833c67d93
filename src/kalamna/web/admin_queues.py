"""SAQ's web UI at ``/admin/queues``, behind HTTP Basic with a superuser's email and password.

Successful credentials are remembered per process for a minute (keyed by a digest of the header) so
that the UI's polling does not run argon2 on every call; failures count against the same per-email
and per-IP budget as ``/auth/login``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from typing import Any
from urllib.parse import unquote

from dishka import AsyncContainer
from litestar import asgi
from litestar.types import Receive, Scope, Send
from saq import Queue

from kalamna.application.auth.superuser import AuthenticateSuperuser
from kalamna.config import Settings
from kalamna.domain.errors import DomainError
from kalamna.ports.security import RateLimiter
from kalamna.web.security import settings_limit

MOUNT_PATH = "/admin/queues"
_CACHE_TTL_S = 60.0
_verified: dict[str, float] = {}
_ui: dict[str, Any] = {}


async def _send_plain(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = text.encode()
    start: Any = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
    }
    await send(start)
    end: Any = {"type": "http.response.body", "body": body}
    await send(end)


def _credentials(scope: Scope) -> tuple[str, str] | None:
    header = next((v for k, v in scope["headers"] if k == b"authorization"), b"").decode("latin-1")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        email, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (email, password) if sep else None


async def _authorised(scope: Scope, container: AsyncContainer) -> bool:
    creds = _credentials(scope)
    if creds is None:
        return False
    digest = hashlib.sha256(f"{creds[0]}\0{creds[1]}".encode()).hexdigest()
    if _verified.get(digest, 0.0) > time.monotonic():
        return True
    settings = await container.get(Settings)
    limiter = await container.get(RateLimiter)
    limit = settings_limit(settings, "login_failures")
    client = scope.get("client") or ("unknown", 0)
    bucket = f"login-fail:{hashlib.sha256(creds[0].strip().lower().encode()).hexdigest()[:32]}:{client[0]}"
    if not (await limiter.peek(bucket, limit=limit.count, window_s=limit.window_s)).allowed:
        return False
    try:
        await (await container.get(AuthenticateSuperuser))(*creds)
    except DomainError:
        await limiter.hit(bucket, limit=limit.count, window_s=limit.window_s)
        return False
    _verified[digest] = time.monotonic() + _CACHE_TTL_S
    return True


@asgi(MOUNT_PATH, is_mount=True, include_in_schema=False, copy_scope=True)
async def admin_queues(scope: Scope, receive: Receive, send: Send) -> None:
    state: dict[str, Any] = scope.get("state", {})
    container: AsyncContainer = state["dishka_container"]
    if not await _authorised(scope, container):
        await _send_plain(
            send,
            401,
            "Superuser credentials required.",
            [(b"www-authenticate", b'Basic realm="Kalamna queues"')],
        )
        return
    if "app" not in _ui:
        from saq.web.starlette import saq_web

        _ui["app"] = saq_web(MOUNT_PATH, queues=[await container.get(Queue)])
    # Litestar hands mounts a stripped path with a trailing slash; Starlette wants the full path and
    # the mount as root_path.
    full_path = scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or MOUNT_PATH
    await _ui["app"]({**scope, "path": unquote(full_path), "root_path": MOUNT_PATH}, receive, send)
