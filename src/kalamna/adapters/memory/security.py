"""In-memory revocation store, rate limiter and a settable clock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from kalamna.ports.security import AccessClaims, RateLimitDecision


@dataclass
class MemoryRevocationStore:
    jtis: set[str] = field(default_factory=set)
    subjects: dict[UUID, float] = field(default_factory=dict)
    organizations: dict[UUID, float] = field(default_factory=dict)

    async def revoke_access_token(self, jti: str, expires_at: float) -> None:
        self.jtis.add(jti)

    async def revoke_subject_before(self, subject: UUID, moment: float) -> None:
        self.subjects[subject] = moment

    async def revoke_organization_before(self, organization_id: UUID, moment: float) -> None:
        self.organizations[organization_id] = moment

    async def is_revoked(self, claims: AccessClaims) -> bool:
        if claims.jti in self.jtis:
            return True
        if claims.issued_at < self.subjects.get(claims.subject, float("-inf")):
            return True
        org = claims.organization_id
        return org is not None and claims.issued_at < self.organizations.get(org, float("-inf"))


@dataclass
class MemoryRateLimiter:
    windows: dict[str, tuple[int, float]] = field(default_factory=dict)

    def _current(self, bucket: str, window_s: int) -> tuple[int, float]:
        count, started = self.windows.get(bucket, (0, time.monotonic()))
        if time.monotonic() - started >= window_s:
            count, started = 0, time.monotonic()
        return count, started

    async def hit(self, bucket: str, *, limit: int, window_s: int) -> RateLimitDecision:
        count, started = self._current(bucket, window_s)
        count += 1
        self.windows[bucket] = (count, started)
        reset = max(1, int(window_s - (time.monotonic() - started)))
        return RateLimitDecision(count <= limit, limit, max(0, limit - count), reset)

    async def peek(self, bucket: str, *, limit: int, window_s: int) -> RateLimitDecision:
        count, started = self._current(bucket, window_s)
        reset = max(1, int(window_s - (time.monotonic() - started)))
        return RateLimitDecision(count < limit, limit, max(0, limit - count), reset)

    async def reserve(self, bucket: str, *, limit: int, window_s: int) -> RateLimitDecision:
        count, started = self._current(bucket, window_s)
        reset = max(1, int(window_s - (time.monotonic() - started)))
        if count >= limit:
            return RateLimitDecision(False, limit, 0, reset)
        self.windows[bucket] = (count + 1, started)
        return RateLimitDecision(True, limit, max(0, limit - count - 1), reset)

    async def release(self, bucket: str) -> None:
        count, started = self.windows.get(bucket, (0, time.monotonic()))
        if count > 0:
            self.windows[bucket] = (count - 1, started)


@dataclass
class FixedClock:
    current: datetime = field(default_factory=lambda: datetime(2026, 11, 22, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta
