"""The HTTP edge: error shape, request ids, OpenAPI, trailing slashes."""

from __future__ import annotations

import msgspec
import pytest
from litestar import get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from kalamna.web.app import create_app
from tests.api.conftest import shared_container


class Echo(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    count: int


@post("/_test/echo")
async def echo(data: JSONBody[Echo]) -> Echo:
    return data


@get("/_test/boom")
async def boom() -> None:
    raise RuntimeError("secret internal detail")


@pytest.fixture
async def edge_client(settings, clean_state):  # type: ignore[no-untyped-def]
    app = create_app(settings, shared_container(settings), extra_handlers=[echo, boom])
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_error_shape(body: dict, status: int, code: str) -> None:
    assert body["status_code"] == status
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]


async def test_unknown_route_is_404_in_contract_shape(edge_client: AsyncTestClient) -> None:
    response = await edge_client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert_error_shape(response.json(), 404, "not_found")
    assert response.headers["x-request-id"]


async def test_wrong_method_is_405(edge_client: AsyncTestClient) -> None:
    response = await edge_client.delete("/api/v1/health")
    assert response.status_code == 405
    assert_error_shape(response.json(), 405, "method_not_allowed")


async def test_validation_error_lists_fields(edge_client: AsyncTestClient) -> None:
    response = await edge_client.post("/api/v1/_test/echo", json={"name": "a", "count": "many"})
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, 422, "validation_error")
    assert any("count" in str(field) for field in body["extra"]["fields"])


async def test_unknown_field_is_rejected(edge_client: AsyncTestClient) -> None:
    response = await edge_client.post("/api/v1/_test/echo", json={"name": "a", "count": 1, "role": "owner"})
    assert response.status_code == 422
    assert_error_shape(response.json(), 422, "validation_error")


@pytest.mark.parametrize("payload", [b"{not json", b"", b"[1, 2", b"\xff\xfe"])
async def test_malformed_json_is_a_client_error(edge_client: AsyncTestClient, payload: bytes) -> None:
    response = await edge_client.post(
        "/api/v1/_test/echo", content=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.json()["code"] in ("bad_request", "validation_error")


async def test_unexpected_error_is_500_without_internals(edge_client: AsyncTestClient) -> None:
    response = await edge_client.get("/api/v1/_test/boom")
    assert response.status_code == 500
    assert_error_shape(response.json(), 500, "internal_error")
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


async def test_request_id_is_echoed_when_sane_and_replaced_when_not(edge_client: AsyncTestClient) -> None:
    response = await edge_client.get("/api/v1/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    response = await edge_client.get("/api/v1/health", headers={"X-Request-ID": "bad id\r\nx"})
    assert response.headers["x-request-id"] != "bad id\r\nx"
    assert len(response.headers["x-request-id"]) == 32


async def test_trailing_slash_is_optional(edge_client: AsyncTestClient) -> None:
    assert (await edge_client.get("/api/v1/health/")).status_code == 200


async def test_openapi_31_lists_routes(edge_client: AsyncTestClient) -> None:
    response = await edge_client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/health" in schema["paths"]
    assert (await edge_client.get("/schema/swagger")).status_code == 200
    assert (await edge_client.get("/schema")).status_code == 200


async def test_openapi_component_names_carry_no_module_path(edge_client: AsyncTestClient) -> None:
    names = (await edge_client.get("/schema/openapi.json")).json()["components"]["schemas"]
    leaked = sorted(name for name in names if "kalamna." in name or "_" in name)
    assert leaked == []
    # the list responses are named per capability
    assert {"ChatMessagePage", "ConversationPage", "EntryPage", "OrganizationPage", "WebhookPage"} <= set(
        names
    )


async def test_cors_preflight_allows_configured_origin(edge_client: AsyncTestClient) -> None:
    response = await edge_client.options(
        "/api/v1/health",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code in (200, 204)
    assert response.headers.get("access-control-allow-origin") in ("*", "https://shop.example")


async def test_access_log_line_has_no_query_string(edge_client: AsyncTestClient, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level("INFO", logger="kalamna.access")
    await edge_client.get("/api/v1/health?token=supersecret")
    records = [r for r in caplog.records if r.name == "kalamna.access"]
    assert records, "one access line per request"
    line = records[-1]
    assert line.route == "/api/v1/health"
    assert line.status == 200
    assert "supersecret" not in repr(line.__dict__)
