"""Revocations: revoked ``jti``s until the token would expire anyway, and per-employee /
per-organization "not before" moments. Fails closed.

PostgreSQL (``PgRevocationLedger``) is the source of truth; Redis is the fast path (one MGET per
authenticated request). A revocation is written to PostgreSQL first, then to Redis. Redis is
re-filled from PostgreSQL (never overwriting a later cut-off):

- at process start (``refill``, called by ``di.prepare``);
- when the marker key ``kalamna:revoked:loaded`` is missing from the request's MGET — Redis lost its
  data (a restart without persistence, a flush, a fail-over to an empty replica);
- when Redis's ``run_id`` changed since this process last re-filled (checked at most once a second):
  a restart that kept its append-only file may still have lost its last second of writes;
- after a Redis write failed here (the revocation is in PostgreSQL, Redis may have missed it).

Without a ledger (unit tests) the store is Redis-only, as before.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Sequence
from typing import Protocol, TypeVar
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from kalamna.domain.errors import DependencyUnavailable
from kalamna.ports.security import AccessClaims

_PREFIX = "kalamna:revoked"
_MARKER = f"{_PREFIX}:loaded"
_RUN_ID_CHECK_S = 1.0
T = TypeVar("T")

# Raise a cut-off, never lower it: KEYS[1] the cut-off, ARGV[1] the moment, ARGV[2] the TTL (s).
_RAISE_CUTOFF = """
local current = redis.call('GET', KEYS[1])
if (not current) or tonumber(current) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 1
"""


class StoredRevocation(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def not_before(self) -> float: ...
    @property
    def expires_at(self) -> float: ...


class RevocationLedger(Protocol):
    async def record(self, kind: str, subject: str, not_before: float, expires_at: float) -> None: ...

    async def active(self, now: float) -> Sequence[StoredRevocation]: ...


def _key(kind: str, subject: str) -> str:
    short = {"jti": "jti", "employee": "sub", "organization": "org"}[kind]
    return f"{_PREFIX}:{short}:{subject}"


class RedisRevocationStore:
    def __init__(
        self, redis: Redis, *, access_lifetime_s: int, ledger: RevocationLedger | None = None
    ) -> None:
        self._redis = redis
        self._ledger = ledger
        # "Not before" marks only matter while a token issued before them can still be alive.
        self._cutoff_ttl_s = access_lifetime_s + 60
        self._raise_cutoff = redis.register_script(_RAISE_CUTOFF)
        self._run_id: str | None = None
        self._checked_at = float("-inf")
        self._stale = False

    async def revoke_access_token(self, jti: str, expires_at: float) -> None:
        ttl = max(1, math.ceil(expires_at - time.time()) + 5)
        await self._record("jti", jti, 0.0, time.time() + ttl)
        await self._write(self._redis.set(_key("jti", jti), b"1", ex=ttl))

    async def revoke_subject_before(self, subject: UUID, moment: float) -> None:
        await self._cutoff("employee", str(subject), moment)

    async def revoke_organization_before(self, organization_id: UUID, moment: float) -> None:
        await self._cutoff("organization", str(organization_id), moment)

    async def is_revoked(self, claims: AccessClaims) -> bool:
        keys = [_MARKER, _key("jti", claims.jti), _key("employee", str(claims.subject))]
        if claims.organization_id:
            keys.append(_key("organization", str(claims.organization_id)))
        if self._ledger is not None:
            await self._check_restart()
        values: list[bytes | None] = await self._guard(self._redis.mget(keys))
        if self._ledger is not None and values[0] is None:
            await self.refill()
            values = await self._guard(self._redis.mget(keys))
        if values[1] is not None:
            return True
        return any(value is not None and claims.issued_at < float(value) for value in values[2:])

    async def refill(self) -> int:
        """Copy every live revocation from PostgreSQL into Redis; returns how many."""
        if self._ledger is None:
            return 0
        run_id = await self._server_run_id()
        now = time.time()
        try:
            rows = await self._ledger.active(now)
        except (SQLAlchemyError, OSError) as exc:
            raise DependencyUnavailable("Sessions cannot be checked right now; try again shortly.") from exc
        pipe = self._redis.pipeline(transaction=False)
        for row in rows:
            ttl = max(1, math.ceil(row.expires_at - now))
            if row.kind == "jti":
                pipe.set(_key("jti", row.subject), b"1", ex=ttl, nx=True)
            else:
                key = _key(row.kind, row.subject)
                await self._raise_cutoff(keys=[key], args=[repr(row.not_before), ttl], client=pipe)
        pipe.set(_MARKER, b"1")
        await self._guard(pipe.execute())
        self._run_id, self._checked_at, self._stale = run_id, time.monotonic(), False
        return len(rows)

    async def _check_restart(self) -> None:
        if not self._stale and time.monotonic() - self._checked_at < _RUN_ID_CHECK_S:
            return
        run_id = await self._server_run_id()
        self._checked_at = time.monotonic()
        if self._stale or run_id != self._run_id:
            self._stale = True  # until a re-fill succeeds, every check tries again (fails closed)
            await self.refill()

    async def _server_run_id(self) -> str:
        info = await self._guard(self._redis.info("server"))
        return str(info.get("run_id", ""))

    async def _cutoff(self, kind: str, subject: str, moment: float) -> None:
        await self._record(kind, subject, moment, moment + self._cutoff_ttl_s)
        await self._write(
            self._raise_cutoff(keys=[_key(kind, subject)], args=[repr(moment), self._cutoff_ttl_s])
        )

    async def _record(self, kind: str, subject: str, not_before: float, expires_at: float) -> None:
        if self._ledger is None:
            return
        try:
            await self._ledger.record(kind, subject, not_before, expires_at)
        except (SQLAlchemyError, OSError) as exc:
            raise DependencyUnavailable("Sessions cannot be changed right now; try again shortly.") from exc

    async def _write(self, awaitable: Awaitable[object]) -> None:
        try:
            await self._guard(awaitable)
        except DependencyUnavailable:
            self._stale = True  # recorded in PostgreSQL; re-fill before the next check
            raise

    @staticmethod
    async def _guard(awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable("Sessions cannot be checked right now; try again shortly.") from exc
