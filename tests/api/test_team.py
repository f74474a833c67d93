"""Section 2: invitations and employees."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.jobs import MemoryJobQueue
from tests.api.helpers import PASSWORD, World, invite_and_accept, last_email, login, token_from

pytestmark = pytest.mark.usefixtures("clean_state")


async def invite(client: AsyncTestClient, world: World, email: str, role: str = "staff"):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/v1/orgs/{world.org}/employee/invitations",
        json={"email": email, "role": role},
        headers=world.owner.auth,
    )


async def test_invitation_email_verify_and_accept(
    client: AsyncTestClient, jobs: MemoryJobQueue, world: World
) -> None:
    response = await invite(client, world, "New@A.test", "owner")
    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["role"], body["status"], body["invited_by"]) == (
        "new@a.test",
        "owner",
        "pending",
        world.owner.employee_id,
    )
    assert "token" not in str(body).lower()
    mail = last_email(jobs, "new@a.test")
    assert "Org A" in mail["text"]
    assert "Owner Org A" in mail["text"]  # the inviter's name
    token = token_from(mail)
    check = await client.get(f"/api/v1/auth/invitations/verify/{token}")
    assert check.status_code == 200
    assert check.json()["organization"] == {"id": world.org, "name": "Org A"}
    assert check.json()["invited_by"] == {"full_name": "Owner Org A"}
    weak = await client.post(
        f"/api/v1/auth/invitations/{token}/accept", json={"full_name": "N", "password": "12345678"}
    )
    assert weak.status_code == 422
    accepted = await client.post(
        f"/api/v1/auth/invitations/{token}/accept", json={"full_name": "New Owner", "password": PASSWORD}
    )
    assert accepted.status_code == 201
    employee = accepted.json()["employee"]
    assert (employee["role"], employee["status"], employee["organization_id"]) == (
        "owner",
        "active",
        world.org,
    )
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {accepted.json()['access_token']}"}
    )
    assert me.json()["email"] == "new@a.test"
    again = await client.post(
        f"/api/v1/auth/invitations/{token}/accept", json={"full_name": "X", "password": PASSWORD}
    )
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_token"
    assert (await client.get(f"/api/v1/auth/invitations/verify/{token}")).status_code == 400
    listed = (
        await client.get(
            f"/api/v1/orgs/{world.org}/employee/invitations?status=accepted", headers=world.owner.auth
        )
    ).json()
    assert sorted(i["email"] for i in listed["items"]) == ["new@a.test", "staff@a.test"]


async def test_existing_account_email_is_409(client: AsyncTestClient, world: World) -> None:
    for email in ("staff@a.test", "owner@b.test", "ROOT@kalamna.test"):
        response = await invite(client, world, email)
        assert response.status_code == 409
        assert response.json()["code"] == "email_taken"


async def test_second_invitation_replaces_the_first(
    client: AsyncTestClient, jobs: MemoryJobQueue, world: World
) -> None:
    await invite(client, world, "twice@a.test")
    first = token_from(last_email(jobs, "twice@a.test"))
    await invite(client, world, "twice@a.test", "owner")
    second = token_from(last_email(jobs, "twice@a.test"))
    assert (await client.get(f"/api/v1/auth/invitations/verify/{first}")).status_code == 400
    assert (await client.get(f"/api/v1/auth/invitations/verify/{second}")).json()["role"] == "owner"
    listed = (
        await client.get(f"/api/v1/orgs/{world.org}/employee/invitations", headers=world.owner.auth)
    ).json()
    statuses = sorted(i["status"] for i in listed["items"] if i["email"] == "twice@a.test")
    assert statuses == ["pending", "revoked"]


async def test_revoke_and_resend(client: AsyncTestClient, jobs: MemoryJobQueue, world: World) -> None:
    invitation = (await invite(client, world, "r@a.test")).json()
    old = token_from(last_email(jobs, "r@a.test"))
    resend = await client.post(
        f"/api/v1/orgs/{world.org}/employee/invitations/{invitation['id']}/resend", headers=world.owner.auth
    )
    assert resend.status_code == 202
    new = token_from(last_email(jobs, "r@a.test"))
    assert new != old
    assert (await client.get(f"/api/v1/auth/invitations/verify/{old}")).status_code == 400
    assert (await client.get(f"/api/v1/auth/invitations/verify/{new}")).status_code == 200
    revoked = await client.delete(
        f"/api/v1/orgs/{world.org}/employee/invitations/{invitation['id']}", headers=world.owner.auth
    )
    assert revoked.status_code == 204
    assert (await client.get(f"/api/v1/auth/invitations/verify/{new}")).status_code == 400
    accept = await client.post(
        f"/api/v1/auth/invitations/{new}/accept", json={"full_name": "R", "password": PASSWORD}
    )
    assert accept.status_code == 400
    # Another organization's owner cannot see or touch it.
    b = world.other_owner
    cross = await client.delete(
        f"/api/v1/orgs/{b.organization_id}/employee/invitations/{invitation['id']}", headers=b.auth
    )
    assert cross.status_code == 404


async def test_expired_invitation(
    client: AsyncTestClient, jobs: MemoryJobQueue, world: World, settings
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    await invite(client, world, "late@a.test")
    token = token_from(last_email(jobs, "late@a.test"))
    engine = create_async_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE invitations SET expires_at = now() - interval '1 second' WHERE email = 'late@a.test'"
            )
        )
        await conn.execute(
            text(
                "UPDATE one_time_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'invitation'"
            )
        )
    await engine.dispose()
    assert (await client.get(f"/api/v1/auth/invitations/verify/{token}")).status_code == 400
    listed = (
        await client.get(
            f"/api/v1/orgs/{world.org}/employee/invitations?status=expired", headers=world.owner.auth
        )
    ).json()
    assert [i["email"] for i in listed["items"]] == ["late@a.test"]


async def test_employee_list_filters_and_pagination(
    client: AsyncTestClient, jobs: MemoryJobQueue, world: World
) -> None:
    for i in range(3):
        await invite_and_accept(client, jobs, world.owner, f"s{i}@a.test")
    url = f"/api/v1/orgs/{world.org}/employee"
    everyone = (await client.get(url, headers=world.staff.auth)).json()
    assert everyone["total"] == 5
    assert {e["organization_id"] for e in everyone["items"]} == {world.org}
    staff = (await client.get(f"{url}?role=staff&limit=2&offset=1", headers=world.owner.auth)).json()
    assert (staff["total"], staff["limit"], staff["offset"], len(staff["items"])) == (4, 2, 1, 2)
    assert all(e["role"] == "staff" for e in staff["items"])
    for bad in ("?limit=0", "?limit=101", "?offset=-1", "?role=king", "?status=sleeping"):
        assert (await client.get(url + bad, headers=world.owner.auth)).status_code == 422, bad


async def test_last_owner_rule(client: AsyncTestClient, world: World) -> None:
    url = f"/api/v1/orgs/{world.org}/employee/{world.owner.employee_id}"
    for change in ({"role": "staff"}, {"status": "disabled"}):
        response = await client.patch(url, json=change, headers=world.owner.auth)
        assert response.status_code == 409
        assert response.json()["code"] == "last_owner"
    response = await client.delete(url, headers=world.owner.auth)
    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"
    # With a second owner, the first may step down.
    promoted = await client.patch(
        f"/api/v1/orgs/{world.org}/employee/{world.staff.employee_id}",
        json={"role": "owner"},
        headers=world.owner.auth,
    )
    assert promoted.status_code == 200
    assert (await client.patch(url, json={"role": "staff"}, headers=world.owner.auth)).status_code == 200


async def test_mass_assignment_is_refused(client: AsyncTestClient, world: World) -> None:
    url = f"/api/v1/orgs/{world.org}/employee/{world.staff.employee_id}"
    for bad in (
        {"organization_id": world.other_owner.organization_id},
        {"role": "superuser"},
        {"status": "pending"},
        {"email": "x@y.test"},
    ):
        assert (await client.patch(url, json=bad, headers=world.owner.auth)).status_code == 422, bad


async def test_disabling_and_removing_cut_sessions_at_once(
    client: AsyncTestClient, jobs: MemoryJobQueue, world: World
) -> None:
    url = f"/api/v1/orgs/{world.org}/employee/{world.staff.employee_id}"
    assert (await client.get("/api/v1/auth/me", headers=world.staff.auth)).status_code == 200
    disabled = await client.patch(url, json={"status": "disabled"}, headers=world.owner.auth)
    assert disabled.json()["status"] == "disabled"
    assert (await client.get("/api/v1/auth/me", headers=world.staff.auth)).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": world.staff.refresh_token})
    ).status_code in (401, 403)
    login_attempt = await client.post(
        "/api/v1/auth/login", json={"email": world.staff.email, "password": PASSWORD}
    )
    assert login_attempt.status_code == 403
    assert login_attempt.json()["code"] == "account_disabled"
    await client.patch(url, json={"status": "active"}, headers=world.owner.auth)
    fresh = await login(client, world.staff.email)
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200

    other = await invite_and_accept(client, jobs, world.owner, "gone@a.test")
    assert (
        await client.delete(
            f"/api/v1/orgs/{world.org}/employee/{other.employee_id}", headers=world.owner.auth
        )
    ).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=other.auth)).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": other.refresh_token})
    ).status_code == 401
    assert (
        await client.get(f"/api/v1/orgs/{world.org}/employee/{other.employee_id}", headers=world.owner.auth)
    ).status_code == 404


async def test_cross_tenant_ids_are_404(client: AsyncTestClient, world: World) -> None:
    b = world.other_owner
    # B's owner naming A's employee under B's own organization: still not found.
    for method, path in (
        ("GET", f"/orgs/{b.organization_id}/employee/{world.staff.employee_id}"),
        ("PATCH", f"/orgs/{b.organization_id}/employee/{world.staff.employee_id}"),
        ("DELETE", f"/orgs/{b.organization_id}/employee/{world.staff.employee_id}"),
        ("GET", f"/orgs/{uuid.uuid4()}"),
    ):
        response = await client.request(
            method, "/api/v1" + path, json={"full_name": "x"} if method == "PATCH" else None, headers=b.auth
        )
        assert response.status_code == 404, (method, path, response.text)
