"""Helpers for API tests: read queued emails, register and sign in, seed a world."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.domain.identity import Role
from kalamna.ports.jobs import DELIVER_EMAIL
from tests.seeding import PASSWORD, Seeded, Seeder

T = TypeVar("T")


def emails_to(jobs: MemoryJobQueue, to: str) -> list[dict[str, str]]:
    """Mails queued for ``to``, oldest first: the delivery job names an outbox row, whose rendered
    content the test's recording outbox kept (see ``tests/api/conftest.py``)."""
    mails: dict[str, dict[str, str]] = getattr(jobs, "mails", {})
    found = []
    for job in jobs.jobs:
        if job.task == DELIVER_EMAIL:
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
        if job.task == DELIVER_EMAIL and job.kwargs["outbox_id"] in mails
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


def account_of(seeded: Seeded) -> Account:
    employee = seeded.employee
    return Account(
        email=employee.email,
        password=PASSWORD,
        organization_id=str(employee.organization_id or ""),
        employee_id=str(employee.id),
        access_token=seeded.tokens.access_token,
        refresh_token=seeded.tokens.refresh_token,
    )


async def seed(source: Any, build: Callable[[Seeder], Awaitable[T]]) -> T:
    """Run ``build`` with a seeder on the test database and commit (no HTTP, no emails).

    ``source`` is the test client, whose app's container is used (its pools are open already), or
    settings, for which a container is made and closed."""
    if isinstance(source, AsyncTestClient):  # on the app's event loop, where its pools live
        container = source.app.state.dishka_container
        return await asyncio.to_thread(source.blocking_portal.call, _seed_in, container, build)
    from kalamna.di import make_container

    container = make_container(source)
    try:
        return await _seed_in(container, build)
    finally:
        await container.close()


async def _seed_in(container: Any, build: Callable[[Seeder], Awaitable[T]]) -> T:
    async with container() as scope:
        seeder = Seeder(scope)
        result = await build(seeder)
        await seeder.commit()
        return result


async def build_world(client: AsyncTestClient, jobs: MemoryJobQueue, settings: Any) -> World:
    """The world, seeded through the repositories: what registering, verifying and signing in "Org A"
    and "Org B", inviting and accepting A's staff member and creating a superuser leave behind."""

    async def build(seeder: Seeder) -> World:
        org_a = await seeder.organization("Org A")
        owner = await seeder.employee(org_a, "owner@a.test", Role.OWNER, "Owner Org A")
        staff = await seeder.invited(owner.employee, "staff@a.test", Role.STAFF, "Staff Person")
        org_b = await seeder.organization("Org B")
        other_owner = await seeder.employee(org_b, "owner@b.test", Role.OWNER, "Owner Org B")
        superuser = await seeder.employee(None, "root@kalamna.test", Role.SUPERUSER, "Platform administrator")
        return World(*(account_of(s) for s in (owner, staff, other_owner, superuser)))

    return await seed(client, build)


async def wait_for_status(
    client: AsyncTestClient,
    account: Account,
    entry_id: str,
    statuses: tuple[str, ...] = ("ready", "failed"),
    timeout: float = 90,
) -> dict[str, Any]:
    """Read the entry until its status is one of ``statuses``. In a live app (real SAQ worker) this
    sleeps until one of the entry's ingestion jobs changes state (SAQ publishes every change), rather
    than polling, and at most 2 s; elsewhere (no job in Redis) it re-reads every 100 ms."""
    async with _JobEvents(client, entry_id) as events:
        deadline = time.monotonic() + timeout
        while True:
            response = await client.get(
                f"/api/v1/orgs/{account.organization_id}/knowledge-bases/{entry_id}", headers=account.auth
            )
            body: dict[str, Any] = response.json()
            if body.get("status") in statuses:
                return body
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"entry stuck in {body.get('status')}")
            await events.next_change(remaining)


class _JobEvents:
    """State changes of the SAQ jobs whose key names one entry (``ingest:<id>:<version>``,
    ``rebuild:<id>:...``). Subscribed before the entry is read, so no change is missed."""

    def __init__(self, client: AsyncTestClient, entry_id: str) -> None:
        self._client = client
        self._entry_id = entry_id

    async def __aenter__(self) -> _JobEvents:
        from kalamna.adapters.queue.saq_queue import make_queue
        from kalamna.config import Settings

        container = self._client.app.state.dishka_container
        settings = await asyncio.to_thread(self._client.blocking_portal.call, container.get, Settings)
        self._queue = make_queue(settings.redis_url, settings.queue_name)
        self._pattern = self._queue.job_id(f"*:{self._entry_id}:*")
        self._pubsub = self._queue.redis.pubsub()
        await self._pubsub.psubscribe(self._pattern)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._pubsub.aclose()
        await self._queue.disconnect()

    async def _active_job(self) -> bool:
        from saq.job import TERMINAL_STATUSES

        keys = [key.decode() async for key in self._queue.redis.scan_iter(match=self._pattern)]
        for job_id in keys:
            job = await self._queue.job(self._queue.job_key_from_id(job_id))
            if job is not None and job.status not in TERMINAL_STATUSES:
                return True
        return False

    async def next_change(self, timeout: float) -> None:
        # No job running: no worker will publish, read again shortly. A job running: wait for its
        # message, but read again after 2 s without one, so that a job ended without the message
        # expected cannot hold the test to its timeout (a job aborted by SAQ's sweep race, fixed in
        # adapters/queue/saq_queue.py, once held it 50 s).
        timeout = min(timeout, 2.0 if await self._active_job() else 0.1)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None) is None:
                    pass


async def live_account(client: AsyncTestClient, settings: Any, email: str, org: str) -> Account:
    """A signed-in owner of a new organization, seeded (the live app shares the database)."""

    async def build(seeder: Seeder) -> Account:
        organization = await seeder.organization(org)
        return account_of(await seeder.employee(organization, email, Role.OWNER, "Owner " + org))

    return await seed(client, build)
