"""Which unexpected errors are outages (503) and which are bugs (500)."""

from __future__ import annotations

import errno

import asyncpg.exceptions as pg
import pytest
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa

from kalamna.web.outages import outage_kind


def _wrapped(error: BaseException) -> BaseException:
    try:
        try:
            raise error
        except BaseException as inner:
            raise RuntimeError("while handling") from inner
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (sa.OperationalError("SELECT 1", {}, Exception("closed")), "database"),
        (sa.DBAPIError("SELECT 1", {}, Exception("x"), connection_invalidated=True), "database"),
        (sa.TimeoutError("QueuePool limit reached"), "database"),
        (pg.CannotConnectNowError("the database system is starting up"), "database"),
        (pg.AdminShutdownError("terminating connection due to administrator command"), "database"),
        (pg.DiskFullError("could not extend file"), "database"),
        (redis_errors.ConnectionError("refused"), "redis"),
        (redis_errors.BusyLoadingError("LOADING"), "redis"),
        (OSError(errno.ENOSPC, "No space left on device"), "disk"),
        (OSError(errno.EIO, "Input/output error"), "disk"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "network"),
        (_wrapped(OSError(errno.ENOSPC, "No space left on device")), "disk"),
    ],
)
def test_outages_are_recognised_through_wrappers(error: BaseException, kind: str) -> None:
    assert outage_kind(error) == kind


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad"),
        KeyError("missing"),
        sa.IntegrityError("INSERT", {}, Exception("duplicate key")),
        FileNotFoundError(errno.ENOENT, "a bug, not the database's socket"),
        PermissionError(errno.EACCES, "denied"),
    ],
)
def test_bugs_stay_bugs(error: BaseException) -> None:
    assert outage_kind(error) is None
