"""Credentials at the edge: the bearer principal, the client IP, and rate-limit headers."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dishka import Provider, Scope, provide
from litestar import Request

from kalamna.application.auth.principal import AuthenticateAccessToken, Principal
from kalamna.config import Settings
from kalamna.domain.errors import NotAuthenticated
from kalamna.ports.security import RateLimitDecision, RateLimiter
from kalamna.web.errors import ApiError


def bearer_token(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send an access token as 'Authorization: Bearer <token>'.")
    return token.strip()


class WebProvider(Provider):
    """Request-scoped values taken from the HTTP request itself."""

    @provide(scope=Scope.REQUEST)
    async def principal(self, request: Request, authenticate: AuthenticateAccessToken) -> Principal:  # type: ignore[type-arg]
        principal = await authenticate(bearer_token(request))
        if principal.organization_id is not None:  # the access log's tenant_id
            request.scope.setdefault("state", {})["tenant_id"] = str(principal.organization_id)
        return principal


class TrustedProxies:
    def __init__(self, entries: Iterable[str]) -> None:
        self._networks = [ipaddress.ip_network(entry, strict=False) for entry in entries]

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)


def client_ip(request: Request[Any, Any, Any], proxies: TrustedProxies) -> str:
    """The socket peer, unless it is a trusted proxy: then the right-most untrusted hop of
    X-Forwarded-For. A client cannot spoof its way past a counter by sending the header itself."""
    peer = request.client.host if request.client else "unknown"
    return _resolve(peer, request.headers.get("x-forwarded-for", ""), proxies)


def client_ip_of_scope(scope: Any, proxies: TrustedProxies) -> str:
    """``client_ip`` for plain ASGI handlers."""
    client = scope.get("client") or ("unknown", 0)
    forwarded = next((v for k, v in scope["headers"] if k == b"x-forwarded-for"), b"").decode("latin-1")
    return _resolve(str(client[0]), forwarded, proxies)


def _resolve(peer: str, forwarded: str, proxies: TrustedProxies) -> str:
    if not proxies.trusts(peer):
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not proxies.trusts(hop):
            return hop
    return peer


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    window_s: int

    @classmethod
    def parse(cls, value: str) -> Limit:
        from kalamna.config import parse_rate

        count, window = parse_rate(value)
        return cls(count, window)


def rate_headers(decision: RateLimitDecision) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset_after_s),
    }


def refuse(decision: RateLimitDecision) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        "Too many requests; try again later.",
        headers={**rate_headers(decision), "Retry-After": str(decision.reset_after_s)},
    )


async def consume(limiter: RateLimiter, bucket: str, limit: Limit) -> dict[str, str]:
    """Count this request; 429 once over the limit. Returns the headers to send."""
    decision = await limiter.hit(bucket, limit=limit.count, window_s=limit.window_s)
    if not decision.allowed:
        raise refuse(decision)
    return rate_headers(decision)


def settings_limit(settings: Settings, name: str) -> Limit:
    return Limit.parse(getattr(settings, f"rate_limit_{name}"))
