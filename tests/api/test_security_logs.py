"""Issue 9, item 4: database errors carry no SQL parameters, and no error log line carries user data."""

from __future__ import annotations

import io
import logging

import pytest
from litestar import get
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from kalamna.adapters.postgres.engine import make_engine
from kalamna.observability import JsonFormatter, TextFormatter
from kalamna.web.app import create_app
from tests.api.conftest import shared_container

pytestmark = pytest.mark.usefixtures("clean_state")
SECRET = "victim@example.test"


async def test_engine_hides_sql_parameters(settings) -> None:  # type: ignore[no-untyped-def]
    engine: AsyncEngine = make_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as raised:
                await conn.execute(text("SELECT CAST(:v AS integer)"), {"v": SECRET})
    finally:
        await engine.dispose()
    assert SECRET not in str(raised.value.statement or "")
    assert "parameters hidden" in str(raised.value)


@get("/boom", include_in_schema=False)
async def boom() -> None:
    engine = make_engine(_settings["url"])
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT CAST(:v AS integer)"), {"v": SECRET})
    finally:
        await engine.dispose()


_settings: dict[str, str] = {}


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
async def test_error_logs_carry_no_user_data(settings, formatter: logging.Formatter) -> None:  # type: ignore[no-untyped-def]
    _settings["url"] = settings.database_url
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("kalamna.web")
    logger.addHandler(handler)
    try:
        app = create_app(settings, shared_container(settings), extra_handlers=[boom])
        async with AsyncTestClient(app) as client:
            response = await client.get("/api/v1/boom")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    logged = stream.getvalue()
    assert "unhandled error" in logged
    assert "(sqlstate 22" in logged  # enough to diagnose: where, what kind, which SQLSTATE
    assert SECRET not in logged
    assert "victim" not in logged
