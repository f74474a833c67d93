"""Section 8 (but analytics): the superuser's view of every organization, and suspension."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.jobs import MemoryJobQueue
from tests.api.helpers import PASSWORD, World, last_email, token_from

pytestmark = pytest.mark.usefixtures("clean_state")


async def test_list_and_filter_organizations(client: AsyncTestClient, world: World) -> None:
    everything = (await client.get("/api/v1/orgs", headers=world.superuser.auth)).json()
    assert everything["total"] == 2
    assert {o["name"] for o in everything["items"]} == {"Org A", "Org B"}
    found = (await client.get("/api/v1/orgs?q=org%20b", headers=world.superuser.auth)).json()
    assert [o["name"] for o in found["items"]] == ["Org B"]
    assert (await client.get("/api/v1/orgs?q=%25", headers=world.superuser.auth)).json()["total"] == 0
    assert (await client.get("/api/v1/orgs?status=suspended", headers=world.superuser.auth)).json()[
        "total"
    ] == 0
    assert (await client.get("/api/v1/orgs?status=bogus", headers=world.superuser.auth)).status_code == 422
    any_org = await client.get(
        f"/api/v1/orgs/{world.other_owner.organization_id}", headers=world.superuser.auth
    )
    assert any_org.json()["name"] == "Org B"


async def test_create_organization_invites_its_owner(
    client: AsyncTestClient, jobs: MemoryJobQueue, world: World
) -> None:
    response = await client.post(
        "/api/v1/orgs",
        json={
            "organization_name": "Org C",
            "industry": "Travel",
            "owner_email": "boss@c.test",
            "owner_full_name": "Boss",
        },
        headers=world.superuser.auth,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["organization"]["status"] == "active"
    assert body["invitation"]["email"] == "boss@c.test"
    assert body["invitation"]["role"] == "owner"
    token = token_from(last_email(jobs, "boss@c.test"))
    accepted = await client.post(
        f"/api/v1/auth/invitations/{token}/accept", json={"full_name": "Boss", "password": PASSWORD}
    )
    assert accepted.status_code == 201
    assert accepted.json()["employee"]["organization_id"] == body["organization"]["id"]
    config = await client.get(
        f"/api/v1/orgs/{body['organization']['id']}/config",
        headers={"Authorization": f"Bearer {accepted.json()['access_token']}"},
    )
    assert config.status_code == 200


async def test_suspension_blocks_people_and_widget_and_reactivation_restores(
    client: AsyncTestClient, world: World
) -> None:
    key = (await client.post(f"/api/v1/orgs/{world.org}/credentials", headers=world.owner.auth)).json()[
        "api_key"
    ]
    assert (await client.get("/api/v1/chat/config", headers={"X-API-Key": key})).status_code == 200
    suspended = await client.patch(
        f"/api/v1/orgs/{world.org}", json={"status": "suspended"}, headers=world.superuser.auth
    )
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    # Existing tokens are refused on the next request, the refresh token too, and sign-in says why.
    for account in (world.owner, world.staff):
        me = await client.get("/api/v1/auth/me", headers=account.auth)
        assert me.status_code == 401
        assert me.json()["code"] == "token_revoked"
        assert (
            await client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
        ).status_code in (401, 403)
    login = await client.post("/api/v1/auth/login", json={"email": world.owner.email, "password": PASSWORD})
    assert login.status_code == 403
    assert login.json()["code"] == "organization_suspended"
    assert (await client.get("/api/v1/chat/config", headers={"X-API-Key": key})).status_code == 401
    # The other organization is untouched.
    assert (await client.get("/api/v1/auth/me", headers=world.other_owner.auth)).status_code == 200

    reactivated = await client.patch(
        f"/api/v1/orgs/{world.org}", json={"status": "active"}, headers=world.superuser.auth
    )
    assert reactivated.json()["status"] == "active"
    again = await client.post("/api/v1/auth/login", json={"email": world.owner.email, "password": PASSWORD})
    assert again.status_code == 200
    assert (await client.get("/api/v1/chat/config", headers={"X-API-Key": key})).status_code == 200


async def test_patch_validates(client: AsyncTestClient, world: World) -> None:
    url = f"/api/v1/orgs/{world.org}"
    for bad in ({"status": "pending"}, {"status": "deleted"}, {"website": "ftp://x"}, {"owner": "me"}):
        assert (await client.patch(url, json=bad, headers=world.superuser.auth)).status_code == 422, bad
    renamed = await client.patch(url, json={"name": "Org A2"}, headers=world.superuser.auth)
    assert renamed.json()["name"] == "Org A2"
    assert renamed.json()["status"] == "active"


async def test_the_api_key_of_an_unknown_organization_is_404_for_the_superuser(
    client: AsyncTestClient, world: World
) -> None:
    """Rotation used to write a key for no organization: the foreign key failed at commit (500)."""
    missing = "0190a0a0-0000-7000-8000-000000000000"
    for method in (client.get, client.post):
        response = await method(f"/api/v1/orgs/{missing}/credentials", headers=world.superuser.auth)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


async def test_the_lists_of_an_unknown_organization_are_404_for_the_superuser(
    client: AsyncTestClient, world: World
) -> None:
    """As for its config and analytics: an empty list would say the organization exists."""
    missing = "0190a0a0-0000-7000-8000-000000000000"
    for path in ("employee", "employee/invitations"):
        response = await client.get(f"/api/v1/orgs/{missing}/{path}", headers=world.superuser.auth)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path
    known = await client.get(
        f"/api/v1/orgs/{world.owner.organization_id}/employee", headers=world.superuser.auth
    )
    assert known.status_code == 200 and known.json()["total"] >= 1
