"""Helpers for API tests: read queued emails, register and sign in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.jobs import MemoryJobQueue

PASSWORD = "correct horse battery staple"


def emails_to(jobs: MemoryJobQueue, to: str) -> list[dict[str, str]]:
    """Mails queued for ``to``, oldest first: the delivery job names an outbox row, whose rendered
    content the test's recording outbox kept (see ``tests/api/conftest.py``)."""
    mails: dict[str, dict[str, str]] = getattr(jobs, "mails", {})
    found = []
    for job in jobs.jobs:
        if job.task == "deliver_email":
            message = mails.get(job.kwargs["outbox_id"])
            if message is not None and message["to"] == to:
                found.append(message)
    return found


def queued_emails(jobs: MemoryJobQueue) -> list[dict[str, str]]:
    """Every mail queued so far, oldest first (rendered content kept by the recording outbox)."""
    mails: dict[str, dict[str, str]] = getattr(jobs, "mails", {})
    return [
        mails[job.kwargs["outbox_id"]]
        for job in jobs.jobs
        if job.task == "deliver_email" and job.kwargs["outbox_id"] in mails
    ]


def last_email(jobs: MemoryJobQueue, to: str) -> dict[str, str]:
    found = emails_to(jobs, to)
    if not found:
        raise AssertionError(f"no email to {to}")
    return found[-1]


def token_from(message: dict[str, str]) -> str:
    match = re.search(r"(?:token=|/verify/)([A-Za-z0-9_\-]+)", message["text"])
    assert match, message["text"]
    return match.group(1)


@dataclass
class Account:
    email: str
    password: str
    organization_id: str
    employee_id: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def register(
    client: AsyncTestClient, jobs: MemoryJobQueue, email: str, *, org: str = "Acme", verify: bool = True
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/register",
        json={"organization_name": org, "full_name": "Owner " + org, "email": email, "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    if verify:
        token = token_from(last_email(jobs, email))
        verified = await client.get(f"/api/v1/auth/verify/{token}")
        assert verified.status_code == 200, verified.text
    body: dict[str, Any] = response.json()
    return body


async def login(client: AsyncTestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def signed_up(client: AsyncTestClient, jobs: MemoryJobQueue, email: str, org: str = "Acme") -> Account:
    registered = await register(client, jobs, email, org=org)
    tokens = await login(client, email)
    return Account(
        email=email,
        password=PASSWORD,
        organization_id=registered["organization"]["id"],
        employee_id=registered["employee"]["id"],
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


@dataclass
class World:
    """Two organizations: A with an owner and a staff member, B with an owner; and a superuser."""

    owner: Account
    staff: Account
    other_owner: Account
    superuser: Account

    @property
    def org(self) -> str:
        return self.owner.organization_id


async def invite_and_accept(
    client: AsyncTestClient, jobs: MemoryJobQueue, inviter: Account, email: str, role: str = "staff"
) -> Account:
    response = await client.post(
        f"/api/v1/orgs/{inviter.organization_id}/employee/invitations",
        json={"email": email, "role": role},
        headers=inviter.auth,
    )
    assert response.status_code == 201, response.text
    token = token_from(last_email(jobs, email))
    accepted = await client.post(
        f"/api/v1/auth/invitations/{token}/accept", json={"full_name": "Staff Person", "password": PASSWORD}
    )
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    return Account(
        email=email,
        password=PASSWORD,
        organization_id=inviter.organization_id,
        employee_id=body["employee"]["id"],
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
    )


async def build_world(client: AsyncTestClient, jobs: MemoryJobQueue, settings: Any) -> World:
    from kalamna.application.auth.superuser import CreateSuperuser
    from kalamna.di import make_container

    owner = await signed_up(client, jobs, "owner@a.test", org="Org A")
    staff = await invite_and_accept(client, jobs, owner, "staff@a.test")
    other_owner = await signed_up(client, jobs, "owner@b.test", org="Org B")
    container = make_container(settings)
    try:
        async with container() as scope:
            await (await scope.get(CreateSuperuser))("root@kalamna.test", PASSWORD)
    finally:
        await container.close()
    tokens = await login(client, "root@kalamna.test")
    superuser = Account(
        "root@kalamna.test",
        PASSWORD,
        "",
        tokens["employee"]["id"],
        tokens["access_token"],
        tokens["refresh_token"],
    )
    return World(owner=owner, staff=staff, other_owner=other_owner, superuser=superuser)


async def wait_for_status(
    client: AsyncTestClient,
    account: Account,
    entry_id: str,
    statuses: tuple[str, ...] = ("ready", "failed"),
    timeout: float = 90,
) -> dict[str, Any]:
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(
            f"/api/v1/orgs/{account.organization_id}/knowledge-bases/{entry_id}", headers=account.auth
        )
        body: dict[str, Any] = response.json()
        if body.get("status") in statuses:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"entry stuck in {body.get('status')}")
        await asyncio.sleep(0.1)


async def live_account(client: AsyncTestClient, settings: Any, email: str, org: str) -> Account:
    """An owner in a live app (real queue): verification goes through the outbox mailer's files."""
    import asyncio
    import email as email_lib
    from email import policy

    response = await client.post(
        "/api/v1/auth/register",
        json={"organization_name": org, "full_name": "Owner " + org, "email": email, "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    outbox = settings.data_dir / "mail"
    for _ in range(200):
        for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
            message = email_lib.message_from_bytes(path.read_bytes(), policy=policy.default)
            if message["To"] == email:
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                token = token_from({"text": body.get_content()})
                assert (await client.get(f"/api/v1/auth/verify/{token}")).status_code == 200
                tokens = await login(client, email)
                return Account(
                    email,
                    PASSWORD,
                    response.json()["organization"]["id"],
                    response.json()["employee"]["id"],
                    tokens["access_token"],
                    tokens["refresh_token"],
                )
        await asyncio.sleep(0.05)
    raise AssertionError("verification email never arrived")
