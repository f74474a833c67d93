"""Issue 9, item 1: suspension and removed inviters end every way back in."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.jobs import MemoryJobQueue
from tests.api.helpers import PASSWORD, World, invite_and_accept, last_email, token_from

pytestmark = pytest.mark.usefixtures("clean_state")


async def _invite(client: AsyncTestClient, inviter_auth: dict[str, str], org: str, email: str) -> str:
    response = await client.post(
        f"/api/v1/orgs/{org}/employee/invitations",
        json={"email": email, "role": "owner"},
        headers=inviter_auth,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _accept(client: AsyncTestClient, token: str) -> int:
    response = await client.post(
        f"/api/v1/auth/invitations/{token}/accept", json={"full_name": "Late Owner", "password": PASSWORD}
    )
    assert "access_token" not in response.text or response.status_code == 201
    return response.status_code


async def test_suspension_voids_pending_invitations(
    client: AsyncTestClient, jobs: MemoryJobQueue, world: World
) -> None:
    invitation_id = await _invite(client, world.owner.auth, world.org, "late@a.test")
    token = token_from(last_email(jobs, "late@a.test"))
    suspended = await client.patch(
        f"/api/v1/orgs/{world.org}", json={"status": "suspended"}, headers=world.superuser.auth
    )
    assert suspended.status_code == 200
    assert (await client.get(f"/api/v1/auth/invitations/verify/{token}")).status_code == 400
    assert await _accept(client, token) == 400
    reactivated = await client.patch(
        f"/api/v1/orgs/{world.org}", json={"status": "active"}, headers=world.superuser.auth
    )
    assert reactivated.status_code == 200
    assert await _accept(client, token) == 400  # voided for good, not merely paused
    listed = await client.get(f"/api/v1/orgs/{world.org}/employee/invitations", headers=world.superuser.auth)
    status = {item["id"]: item["status"] for item in listed.json()["items"]}
    assert status[invitation_id] == "revoked"


async def test_invitation_of_a_removed_inviter_stops_working(
    client: AsyncTestClient, jobs: MemoryJobQueue, world: World
) -> None:
    second = await invite_and_accept(client, jobs, world.owner, "second@a.test", role="owner")
    await _invite(client, second.auth, world.org, "crony@a.test")
    token = token_from(last_email(jobs, "crony@a.test"))
    removed = await client.delete(
        f"/api/v1/orgs/{world.org}/employee/{second.employee_id}", headers=world.owner.auth
    )
    assert removed.status_code == 204
    assert (await client.get(f"/api/v1/auth/invitations/verify/{token}")).status_code == 400
    assert await _accept(client, token) == 400
    # An active owner who re-sends it vouches for it: the new link works.
    listed = await client.get(f"/api/v1/orgs/{world.org}/employee/invitations", headers=world.owner.auth)
    invitation_id = next(i["id"] for i in listed.json()["items"] if i["email"] == "crony@a.test")
    resent = await client.post(
        f"/api/v1/orgs/{world.org}/employee/invitations/{invitation_id}/resend", headers=world.owner.auth
    )
    assert resent.status_code == 202
    assert await _accept(client, token_from(last_email(jobs, "crony@a.test"))) == 201


async def test_invitation_of_a_disabled_inviter_stops_working(
    client: AsyncTestClient, jobs: MemoryJobQueue, world: World
) -> None:
    second = await invite_and_accept(client, jobs, world.owner, "second@a.test", role="owner")
    await _invite(client, second.auth, world.org, "crony@a.test")
    token = token_from(last_email(jobs, "crony@a.test"))
    disabled = await client.patch(
        f"/api/v1/orgs/{world.org}/employee/{second.employee_id}",
        json={"status": "disabled"},
        headers=world.owner.auth,
    )
    assert disabled.status_code == 200
    assert await _accept(client, token) == 400


async def test_longest_published_values_are_stored_not_500(client: AsyncTestClient, world: World) -> None:
    """Issue 9 item 10: industry and country as long as published fit their columns."""
    long = {"industry": "i" * 200, "country": "c" * 200}
    register = await client.post(
        "/api/v1/auth/register",
        json={
            "organization_name": "Wide",
            "full_name": "W",
            "email": "w@x.test",
            "password": PASSWORD,
            **long,
        },
    )
    assert register.status_code == 201, register.text
    update = await client.put(
        f"/api/v1/orgs/{world.org}", json={"name": "Org A", **long}, headers=world.owner.auth
    )
    assert update.status_code == 200, update.text
    created = await client.post(
        "/api/v1/orgs",
        json={"organization_name": "C", "owner_email": "c@c.test", "owner_full_name": "C", **long},
        headers=world.superuser.auth,
    )
    assert created.status_code == 201, created.text


async def test_mail_to_unverified_addresses_carries_no_registrant_text(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    """Issue 9 item 12: a registrant cannot make Kalamna mail a victim their words or links."""
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "organization_name": "Claim your prize at https://evil.example/now",
            "full_name": "Visit evil.example today",
            "email": "victim@x.test",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201
    mail = last_email(jobs, "victim@x.test")
    for part in (mail["subject"], mail["text"], mail["html"]):
        assert "evil" not in part and "prize" not in part
    assert mail["text"].startswith("Hello there,")
    short = await client.post(
        "/api/v1/auth/register",
        json={
            "organization_name": "Acme",
            "full_name": "Sara Ali",
            "email": "sara@x.test",
            "password": PASSWORD,
        },
    )
    assert short.status_code == 201
    assert last_email(jobs, "sara@x.test")["text"].startswith("Hello Sara Ali,")
