"""KALAMNA_LOG_FORMAT=json: one JSON object per line with request id, route, status, duration and
tenant; plain text is the default."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from litestar.testing import AsyncTestClient

from kalamna.config import load_settings
from kalamna.observability import configure_logging
from tests.api.helpers import World


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", "json")
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_plain_text_is_the_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert load_settings({"KALAMNA_DATA_DIR": str(tmp_path)}, dotenv=None).log_format == "text"
    assert (
        load_settings(
            {"KALAMNA_DATA_DIR": str(tmp_path), "KALAMNA_LOG_FORMAT": "json"}, dotenv=None
        ).log_format
        == "json"
    )


async def test_access_lines_are_json_objects(
    client: AsyncTestClient, world: World, log_stream: io.StringIO
) -> None:
    response = await client.get(
        f"/api/v1/orgs/{world.org}/config?token=secret-value",
        headers={**world.owner.auth, "X-Request-ID": "req-42"},
    )
    assert response.status_code == 200
    me = await client.get("/api/v1/auth/me", headers=world.staff.auth)
    assert me.status_code == 200
    anonymous = await client.get("/api/v1/health")
    lines = [line for line in log_stream.getvalue().splitlines() if line.strip()]
    objects = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [o for o in objects if o["logger"] == "kalamna.access"]
    config_line = next(o for o in access if o["request_id"] == "req-42")
    assert config_line["route"] == "/api/v1/orgs/{org_id}/config"
    assert config_line["status"] == 200 and config_line["method"] == "GET"
    assert config_line["tenant_id"] == world.org
    assert isinstance(config_line["duration_ms"], float | int) and config_line["duration_ms"] >= 0
    assert (
        config_line["level"] == "info" and config_line["msg"] == "request" and config_line["ts"].endswith("Z")
    )
    me_line = next(o for o in access if o["request_id"] == me.headers["x-request-id"])
    assert me_line["tenant_id"] == world.org  # from the caller's token: the URL names no organization
    health_line = next(o for o in access if o["request_id"] == anonymous.headers["x-request-id"])
    assert health_line["tenant_id"] is None
    assert "secret-value" not in log_stream.getvalue()
