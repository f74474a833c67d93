"""Security ports: password hashing, access tokens, secret tokens, revocation and rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


class PasswordHasher(Protocol):
    """Slow, salted hashing (argon2id) that never blocks the event loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    async def burn(self, password: str) -> None:
        """Spend the time of one verification, for unknown accounts (no timing oracle)."""
        ...


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: UUID
    organization_id: UUID | None
    role: str
    jti: str
    issued_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    claims: AccessClaims


class AccessTokenIssuer(Protocol):
    """Signs and verifies short-lived access JWTs (algorithm pinned, iss/aud/exp/typ checked)."""

    @property
    def lifetime_s(self) -> int: ...

    def issue(self, subject: UUID, organization_id: UUID | None, role: str) -> IssuedAccessToken: ...

    def verify(self, token: str) -> AccessClaims:
        """Raises ``TokenExpired`` or ``NotAuthenticated``."""
        ...


class SecretTokens(Protocol):
    """Random bearer secrets (one-time tokens, refresh tokens, API keys) and their stored digests."""

    def new(self) -> str: ...

    def digest(self, token: str) -> str: ...


class RevocationStore(Protocol):
    """Revocations that must reach every API process at once. Implementations fail closed: when the
    store cannot be read, ``DependencyUnavailable`` is raised rather than a token being accepted."""

    async def revoke_access_token(self, jti: str, expires_at: float) -> None: ...

    async def revoke_subject_before(self, subject: UUID, moment: float) -> None:
        """Refuse every access token of this employee issued before ``moment``."""
        ...

    async def revoke_organization_before(self, organization_id: UUID, moment: float) -> None: ...

    async def is_revoked(self, claims: AccessClaims) -> bool: ...


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_after_s: int


class RateLimiter(Protocol):
    async def hit(self, bucket: str, *, limit: int, window_s: int) -> RateLimitDecision:
        """Count one event and decide."""
        ...

    async def peek(self, bucket: str, *, limit: int, window_s: int) -> RateLimitDecision:
        """Decide without counting (e.g. failed logins are counted only when they fail)."""
        ...


class AttemptLimiter(Protocol):
    """Reserve-then-verify budgets for password guesses, atomic across every process."""

    async def reserve(self, bucket: str, *, limit: int, window_s: int) -> RateLimitDecision:
        """Take one attempt in one atomic step, unless ``limit`` are already taken in the window."""
        ...

    async def release(self, bucket: str) -> None:
        """Give a reserved attempt back (it succeeded: only failures count)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class Throttle(Protocol):
    """Lets one caller in per window across every process (e.g. coalescing ``last_used_at`` writes)."""

    async def first_in_window(self, key: str, window_s: int) -> bool: ...
