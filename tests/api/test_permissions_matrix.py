"""Every route of sections 2, 4, 8 and 10 × {owner, staff, other organization's owner, superuser, anonymous}.

Read-only or harmless requests only (writes that set what is already there), so every row runs
against one world built once for the module; the effects of writes are covered in the feature tests.
404 for another organization's owner is the tenant rule.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from kalamna.web.app import create_app
from tests.api.conftest import RecordingJobs, shared_container
from tests.api.helpers import World, build_world
from tests.conftest import Services, make_test_settings, wipe

# One worker builds the module's world once (its fixture is module-scoped).
pytestmark = pytest.mark.xdist_group("permissions-matrix")

OK = "ok"  # any 2xx, or a validation answer that proves the caller got past the guards
ROLES = ("owner", "staff", "other_owner", "superuser", "anonymous")

# route, method, body, expected per role (owner, staff, other_owner, superuser, anonymous)
MATRIX: list[tuple[str, str, dict | None, tuple[object, ...]]] = [  # type: ignore[type-arg]
    ("/orgs/{org}", "GET", None, (OK, OK, 404, OK, 401)),
    ("/orgs/{org}", "PUT", {"name": "Org A"}, (OK, 403, 404, OK, 401)),
    ("/orgs/{org}/config", "GET", None, (OK, OK, 404, OK, 401)),
    ("/orgs/{org}/config", "PUT", {"tone": "friendly"}, (OK, 403, 404, OK, 401)),
    ("/orgs/{org}/credentials", "GET", None, (OK, 403, 404, OK, 401)),
    ("/orgs/{org}/employee", "GET", None, (OK, OK, 404, OK, 401)),
    ("/orgs/{org}/employee/{staff}", "GET", None, (OK, OK, 404, OK, 401)),
    ("/orgs/{org}/employee/{staff}", "PATCH", {"full_name": "Staff Person"}, (OK, 403, 404, OK, 401)),
    ("/orgs/{org}/employee/{missing}", "DELETE", None, (404, 403, 404, 404, 401)),
    ("/orgs/{org}/employee/invitations", "GET", None, (OK, 403, 404, OK, 401)),
    (
        "/orgs/{org}/employee/invitations",
        "POST",
        {"email": "not-an-email", "role": "staff"},
        (422, 403, 404, 422, 401),
    ),
    ("/orgs/{org}/employee/invitations/{missing}", "DELETE", None, (404, 403, 404, 404, 401)),
    ("/orgs/{org}/employee/invitations/{missing}/resend", "POST", None, (404, 403, 404, 404, 401)),
    ("/orgs/{org}/analytics", "GET", None, (OK, OK, 404, OK, 401)),
    ("/orgs/{org}/analytics/unanswered", "GET", None, (OK, OK, 404, OK, 401)),
    ("/analytics", "GET", None, (403, 403, 403, OK, 401)),
    ("/orgs", "GET", None, (403, 403, 403, OK, 401)),
    (
        "/orgs",
        "POST",
        {"organization_name": "N", "owner_email": "not-an-email", "owner_full_name": "N"},
        (403, 403, 403, 422, 401),
    ),
    ("/orgs/{org}", "PATCH", {"name": "Org A"}, (403, 403, 403, OK, 401)),
    # section 10: the conversations inbox
    ("/orgs/{org}/conversations", "GET", None, (OK, OK, 404, OK, 401)),
    ("/orgs/{org}/conversations/export", "GET", None, (OK, OK, 404, OK, 401)),
    ("/orgs/{org}/conversations/{missing}", "GET", None, (404, 404, 404, 404, 401)),
    ("/orgs/{org}/conversations/{missing}/assign", "POST", None, (404, 404, 404, 404, 401)),
    ("/orgs/{org}/conversations/{missing}/messages", "POST", {"content": "hi"}, (404, 404, 404, 404, 401)),
    ("/orgs/{org}/conversations/{missing}/release", "POST", None, (404, 404, 404, 404, 401)),
    ("/orgs/{org}/conversations/{missing}/close", "POST", None, (404, 404, 404, 404, 401)),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(
    services: Services, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[AsyncTestClient, World]]:
    """One app and one world for every row (the rows neither change nor depend on each other)."""
    await wipe(services)
    settings = make_test_settings(services, tmp_path_factory.mktemp("matrix") / "data")
    jobs = RecordingJobs()
    app = create_app(settings, shared_container(settings, jobs))
    async with AsyncTestClient(app) as client:
        yield client, await build_world(client, jobs, settings)


def _headers(world: World, role: str) -> dict[str, str]:
    return {} if role == "anonymous" else getattr(world, role).auth


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("path", "method", "body", "expected"), MATRIX, ids=[f"{m} {p}" for p, m, _, _ in MATRIX]
)
async def test_route_by_role(
    shared: tuple[AsyncTestClient, World], path: str, method: str, body, expected
) -> None:  # type: ignore[no-untyped-def]
    client, world = shared
    url = "/api/v1" + path.format(org=world.org, staff=world.staff.employee_id, missing=uuid.uuid4())
    for role, want in zip(ROLES, expected, strict=True):
        response = await client.request(method, url, json=body, headers=_headers(world, role))
        if want == OK:
            assert 200 <= response.status_code < 300, (role, response.status_code, response.text)
        else:
            assert response.status_code == want, (role, response.status_code, response.text)
            assert response.json()["status_code"] == want


def test_policy_table_matches_the_documentation() -> None:
    from pathlib import Path

    from kalamna.domain.policy import render_markdown_table

    doc = (Path(__file__).resolve().parents[2] / "docs" / "permissions.md").read_text()
    assert render_markdown_table() in doc, (
        "docs/permissions.md is stale: run `uv run python -m kalamna.domain.policy`"
    )
