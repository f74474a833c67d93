"""SAQ's web UI at ``/admin/queues``, behind HTTP Basic with a superuser's email and password.

Successful credentials are remembered per process for a minute (keyed by a digest of the header) so
that the UI's polling does not run argon2 on every call; each cache hit still asks the shared
revocation store, so a password change ends it everywhere at once. Attempts are reserved against the
same per-email and per-IP budget as ``/auth/login`` before the password is verified.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from uuid import UUID

from dishka import AsyncContainer
from litestar import asgi
from litestar.types import Receive, Scope, Send
from saq import Queue

from kalamna.application.auth.superuser import AuthenticateSuperuser
from kalamna.config import Settings
from kalamna.domain.errors import DomainError
from kalamna.ports.security import AccessClaims, RevocationStore
from kalamna.web.security import TrustedProxies, client_ip_of_scope

MOUNT_PATH = "/admin/queues"
_CACHE_TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class _Verified:
    expires: float
    employee_id: UUID
    verified_at: float


_verified: dict[str, _Verified] = {}
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
    cached = _verified.get(digest)
    if cached is not None and cached.expires > time.monotonic():
        # A password change (or disable) since then puts a "not before" on the employee in the
        # shared revocation store: the cache of every process ends at once.
        revocations = await container.get(RevocationStore)
        claims = AccessClaims(
            subject=cached.employee_id,
            organization_id=None,
            role="superuser",
            jti=f"basic:{digest}",
            issued_at=cached.verified_at,
            expires_at=cached.verified_at + _CACHE_TTL_S,
        )
        if not await revocations.is_revoked(claims):
            return True
        _verified.pop(digest, None)
    settings = await container.get(Settings)
    client = client_ip_of_scope(scope, TrustedProxies(settings.trusted_proxies))
    async with container() as request_scope:
        authenticate = await request_scope.get(AuthenticateSuperuser)
        try:
            employee = await authenticate(*creds, client_ip=client)
        except DomainError:
            return False
    _verified[digest] = _Verified(time.monotonic() + _CACHE_TTL_S, employee.id, time.time())
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
