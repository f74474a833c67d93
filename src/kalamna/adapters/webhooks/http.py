"""Outbound webhook requests with SSRF protection (httpx).

The host is resolved here, every address it resolves to is checked, and the connection goes to the
checked address itself (the URL's host is kept in ``Host`` and, for https, in SNI and certificate
verification), so a DNS answer that changes between check and connect cannot redirect the request.
Redirects are never followed; at most 64 KiB of the answer is read; proxies from the environment are
ignored.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from kalamna import __version__
from kalamna.domain.errors import InvalidInput
from kalamna.domain.webhooks import AttemptResult, IPAddress, is_forbidden_address

MAX_RESPONSE_BYTES = 64 * 1024


class TargetRefused(Exception):
    """The URL's host cannot be resolved or resolves to an address that is not allowed."""


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), timeout=5
        )
    except (OSError, TimeoutError, UnicodeError, ValueError) as exc:
        raise TargetRefused("the host name cannot be resolved") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused("the host name cannot be resolved")
    return addresses


async def checked_address(url: str, *, allow_private: bool) -> tuple[IPAddress, str, int]:
    """(address to connect to, host name, port) for ``url``, or ``TargetRefused``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await resolve(host, port)
    if not allow_private and any(is_forbidden_address(a) for a in addresses):
        raise TargetRefused("the host resolves to a private, loopback, link-local or reserved address")
    return addresses[0], host, port


class ResolvingTargetGuard:
    """Creation-time check (``TargetGuard`` port): a refused target is a 422 on ``url``."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def check(self, url: str) -> None:
        try:
            await checked_address(url, allow_private=self._allow_private)
        except TargetRefused as exc:
            raise InvalidInput(
                f"The webhook URL is not allowed: {exc}.",
                extra={"fields": [{"key": "url", "message": str(exc)}]},
            ) from exc


class HttpxWebhookSender:
    """``WebhookSender`` port. One client per process; connections are not pooled across targets."""

    def __init__(
        self, *, timeout_s: float = 10.0, allow_private: bool = False, verify: ssl.SSLContext | bool = True
    ) -> None:
        self._timeout_s = timeout_s
        self._allow_private = allow_private
        self._client = httpx.AsyncClient(
            verify=verify,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> AttemptResult:
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._post(url, body, headers)
        except TargetRefused as exc:
            return AttemptResult(None, f"refused: {exc}")
        except TimeoutError:
            return AttemptResult(None, f"timed out after {self._timeout_s:g} s")
        except httpx.TimeoutException:
            return AttemptResult(None, f"timed out after {self._timeout_s:g} s")
        except httpx.HTTPError as exc:
            return AttemptResult(None, f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__)
        except OSError as exc:
            return AttemptResult(None, f"connection failed: {exc}"[:300])

    async def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> AttemptResult:
        address, host, port = await checked_address(url, allow_private=self._allow_private)
        parts = urlsplit(url)
        literal = f"[{address}]" if address.version == 6 else str(address)
        target = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        default_port = 443 if parts.scheme == "https" else 80
        host_header = host if port == default_port else f"{host}:{port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
        request_headers = {
            **headers,
            "Host": host_header,
            "User-Agent": f"Kalamna-Webhooks/{__version__}",
        }
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        request = self._client.build_request(
            "POST", target, content=body, headers=request_headers, extensions=extensions
        )
        response = await self._client.send(request, stream=True, follow_redirects=False)
        try:
            received = 0
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if received >= MAX_RESPONSE_BYTES:
                    break
        finally:
            await response.aclose()
        status = response.status_code
        if 200 <= status < 300:
            return AttemptResult(status, None)
        if 300 <= status < 400:
            return AttemptResult(status, f"HTTP {status}: redirects are not followed")
        return AttemptResult(status, f"HTTP {status}")
