"""Issue 9, items 3, 8, 9: control characters, nesting, huge offsets and doubled slashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.api.helpers import PASSWORD, World

pytestmark = pytest.mark.usefixtures("clean_state")


def _assert_control_refused(response: Any, key: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert key in [f["key"] for f in body["extra"]["fields"]]


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f\x00"])
async def test_control_characters_in_anonymous_bodies_are_422(client: AsyncTestClient, char: str) -> None:
    register = await client.post(
        "/api/v1/auth/register",
        json={
            "organization_name": f"Acme{char}",
            "full_name": "F",
            "email": "n@x.test",
            "password": PASSWORD,
        },
    )
    _assert_control_refused(register, "organization_name")
    login = await client.post("/api/v1/auth/login", json={"email": f"a{char}@x.test", "password": "p"})
    _assert_control_refused(login, "email")
    nested = await client.post(
        "/api/v1/chat/sessions", json={"visitor": {"name": f"V{char}"}}, headers={"X-API-Key": "k"}
    )
    _assert_control_refused(nested, "visitor.name")


async def test_tab_newline_and_carriage_return_are_accepted(client: AsyncTestClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"organization_name": "A\tB", "full_name": "F\r\nG", "email": "ok@x.test", "password": PASSWORD},
    )
    assert response.status_code == 201, response.text


async def test_escaped_backslash_u0000_text_is_not_a_control(client: AsyncTestClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"organization_name": "A\\u0000B", "full_name": "F", "email": "ok@x.test", "password": PASSWORD},
    )
    assert response.status_code == 201, response.text


async def test_control_characters_in_query_strings_are_422(client: AsyncTestClient, world: World) -> None:
    response = await client.get("/api/v1/orgs?q=a%00b", headers=world.superuser.auth)
    _assert_control_refused(response, "q")
    response = await client.get(
        f"/api/v1/orgs/{world.org}/knowledge-bases?status=%01", headers=world.owner.auth
    )
    _assert_control_refused(response, "status")


async def test_a_repeated_query_parameter_is_422_naming_it(client: AsyncTestClient, world: World) -> None:
    response = await client.get(
        f"/api/v1/orgs/{world.org}/conversations/export?to=2026-01-01&to=", headers=world.owner.auth
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert response.json()["extra"]["fields"] == [
        {"key": "to", "source": "query", "message": "A query parameter may be given only once."}
    ]
    response = await client.get(
        f"/api/v1/orgs/{world.org}/conversations/export?to=", headers=world.owner.auth
    )
    assert response.status_code == 200, response.text  # given once, the same parameter is fine


async def test_control_characters_in_multipart_fields_are_422_and_leave_no_file(
    client: AsyncTestClient,
    world: World,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    url = f"/api/v1/orgs/{world.org}/knowledge-bases"
    titled = await client.post(
        url,
        files={"file": ("a.txt", b"hello there", "text/plain")},
        data={"title": "bad\x00title"},
        headers=world.owner.auth,
    )
    _assert_control_refused(titled, "title")
    boundary = "kalamnaboundary"
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a\x00.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello there\r\n--{boundary}--\r\n"
    ).encode()
    named = await client.post(
        url,
        content=raw,
        headers={**world.owner.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    _assert_control_refused(named, "file.filename")
    assert _stored_files(Path(settings.blob_dir)) == []


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_deeply_nested_json_is_400(client: AsyncTestClient) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await client.post(
        "/api/v1/auth/login", content=deep, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    nested: Any = "x"
    for _ in range(40):
        nested = {"a": nested}
    response = await client.post("/api/v1/auth/login", json={"email": nested, "password": "p"})
    assert response.status_code == 400


async def test_huge_offsets_are_422(client: AsyncTestClient, world: World) -> None:
    for url in (
        f"/api/v1/orgs/{world.org}/knowledge-bases?offset={2**63}",
        f"/api/v1/orgs/{world.org}/employee/?offset={2**63 + 5}",
        f"/api/v1/orgs?offset={2**64}",
    ):
        headers = world.superuser.auth if url.startswith("/api/v1/orgs?") else world.owner.auth
        response = await client.get(url, headers=headers)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["code"] == "validation_error"


async def test_doubled_slashes_are_normalised_before_routing_and_cors(client: AsyncTestClient) -> None:
    for path in ("//api/v1/chat/config", "/api/v1//chat/config", "/api/v1/chat//config"):
        response = await client.get(
            "http://testserver.local" + path, headers={"Origin": "https://evil.example", "X-API-Key": "nope"}
        )
        assert response.status_code == 401, (path, response.text)
        # The widget's rule applies (no allow-origin for an unverified key), not the dashboard's "*".
        assert "access-control-allow-origin" not in response.headers, path


async def test_options_lists_every_method_of_a_path(client: AsyncTestClient, world: World) -> None:
    response = await client.options(f"/api/v1/orgs/{world.org}")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS, PATCH, PUT"
    login = await client.options("/api/v1/auth/login")
    assert login.headers["allow"] == "OPTIONS, POST"
    employees = await client.options(f"/api/v1/orgs/{world.org}/employee/{world.staff.employee_id}")
    assert employees.headers["allow"] == "DELETE, GET, OPTIONS, PATCH"
    assert (await client.options("/api/v1/nope")).status_code == 404
