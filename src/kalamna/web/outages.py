"""Which unexpected exceptions mean "a backing service is down" (503 ``service_unavailable`` with
``Retry-After``) rather than a bug (500): lost or refused database connections, a database that is
shutting down, starting, full or read-only, Redis unreachable or still loading its data, and a disk
that is full or failing. The exception and its causes are inspected, so wrapped errors count too.
"""

from __future__ import annotations

import errno

import asyncpg.exceptions as pg
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa

RETRY_AFTER_S = 5

_DATABASE = (
    sa.OperationalError,
    sa.InterfaceError,
    sa.DisconnectionError,
    sa.TimeoutError,  # the connection pool is exhausted
    pg.PostgresConnectionError,
    pg.InterfaceError,
    pg.OperatorInterventionError,  # admin / crash shutdown, cannot connect now
    pg.InsufficientResourcesError,  # disk full, out of memory, too many connections
    pg.ReadOnlySQLTransactionError,  # a fail-over in progress: connected to a standby
)
_REDIS = (redis_errors.ConnectionError, redis_errors.TimeoutError)  # incl. BusyLoadingError
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EMFILE, errno.ENFILE}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        orig = getattr(current, "orig", None)  # SQLAlchemy's wrapped DBAPI error
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return seen


def _raised_in(exc: BaseException) -> str | None:
    """ "database" / "redis" when the client library itself raised this OS error (connecting)."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("asyncpg.", "sqlalchemy.pool", "sqlalchemy.connectors")):
            return "database"
        if module.startswith("redis."):
            return "redis"
        tb = tb.tb_next
    return None


def outage_kind(exc: BaseException) -> str | None:
    """``"database"``, ``"redis"``, ``"disk"``, ``"network"`` or None (not an outage)."""
    for item in _chain(exc):
        if isinstance(item, sa.DBAPIError) and item.connection_invalidated:
            return "database"
        if isinstance(item, _DATABASE):
            return "database"
        if isinstance(item, _REDIS):
            return "redis"
        if isinstance(item, OSError) and item.errno in _DISK_ERRNOS:
            return "disk"
        if isinstance(item, OSError) and (origin := _raised_in(item)) is not None:
            return origin  # e.g. the database's Unix socket is gone while it restarts
        if isinstance(item, ConnectionError | TimeoutError):
            return "network"
    return None
