"""Budgets for password guesses (sign-in, the operator's Basic login, password change).

An attempt is reserved atomically *before* the password is verified and given back only when it
was right, so a burst of concurrent guesses cannot all pass a check that precedes the count.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from kalamna.domain.errors import InvalidCredentials, RateLimited
from kalamna.ports.security import AttemptLimiter, RateLimitDecision


@dataclass(frozen=True, slots=True)
class AttemptPolicy:
    limit: int = 10
    window_s: int = 900


def login_bucket(email: str, client_ip: str) -> str:
    """Per (email, client IP); the email enters Redis only as a digest."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"login-fail:{digest}:{client_ip}"


def password_change_bucket(employee_id: UUID) -> str:
    return f"password-change-fail:{employee_id}"


class PasswordAttempts:
    def __init__(self, limiter: AttemptLimiter, policy: AttemptPolicy) -> None:
        self._limiter = limiter
        self._policy = policy

    async def reserve(self, bucket: str) -> RateLimitDecision:
        """Take one attempt or raise ``RateLimited``."""
        decision = await self._limiter.reserve(
            bucket, limit=self._policy.limit, window_s=self._policy.window_s
        )
        if not decision.allowed:
            raise RateLimited(decision.reset_after_s, budget=_budget(decision))
        return decision

    async def succeeded(self, bucket: str) -> None:
        await self._limiter.release(bucket)

    @staticmethod
    def failed(exc: InvalidCredentials, decision: RateLimitDecision) -> InvalidCredentials:
        exc.budget = _budget(decision)
        return exc


def _budget(decision: RateLimitDecision) -> tuple[int, int, int]:
    return (decision.limit, decision.remaining, decision.reset_after_s)
