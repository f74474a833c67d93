"""Seeding the in-memory identity store for use-case tests: organizations, their employees and
principals (what a verified access token says), committed as a finished request would leave them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import unquote
from uuid import UUID

from dishka import AsyncContainer

from kalamna.adapters.memory.identity import MemoryStore
from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.memory.mail import MemoryMailOutbox
from kalamna.adapters.memory.security import FixedClock
from kalamna.application.auth.principal import Principal
from kalamna.domain.bot_config import BotConfig
from kalamna.domain.identity import Employee, EmployeeStatus, Organization, OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.mail import EmailMessage
from kalamna.ports.jobs import DELIVER_EMAIL

T = TypeVar("T")


def principal(employee: Employee) -> Principal:
    return Principal(employee.id, employee.organization_id, employee.role, f"jti-{employee.id}", 0.0)


@dataclass
class Tenant:
    organization: Organization
    owner: Employee
    staff: Employee

    @property
    def id(self) -> UUID:
        return self.organization.id

    @property
    def as_owner(self) -> Principal:
        return principal(self.owner)

    @property
    def as_staff(self) -> Principal:
        return principal(self.staff)


async def add_organization(
    container: AsyncContainer,
    name: str = "Acme",
    *,
    status: OrganizationStatus = OrganizationStatus.ACTIVE,
    at: datetime | None = None,
) -> Organization:
    store = await container.get(MemoryStore)
    now = at or (await container.get(FixedClock)).now()
    organization = Organization(new_id(), name, status, now, now)
    store.organizations[organization.id] = organization
    store.bot_configs[organization.id] = BotConfig(organization_id=organization.id, updated_at=now)
    store.commit()
    return organization


async def add_employee(
    container: AsyncContainer,
    organization: Organization | None,
    email: str,
    role: Role = Role.STAFF,
    *,
    status: EmployeeStatus = EmployeeStatus.ACTIVE,
    full_name: str | None = None,
) -> Employee:
    store = await container.get(MemoryStore)
    # Distinct creation times in insertion order: lists sort by (created_at, id) and UUIDv7s made
    # within one millisecond are not ordered.
    now = (await container.get(FixedClock)).now() + timedelta(microseconds=len(store.employees))
    employee = Employee(
        id=new_id(),
        organization_id=organization.id if organization else None,
        email=email,
        full_name=full_name or email.split("@")[0].title(),
        role=role,
        status=status,
        password_hash="not-a-real-hash",
        created_at=now,
        updated_at=now,
        email_verified_at=now,
    )
    store.employees[employee.id] = employee
    store.commit()
    return employee


async def add_tenant(container: AsyncContainer, name: str = "Acme") -> Tenant:
    """An active organization with an active owner and an active staff member."""
    organization = await add_organization(container, name)
    domain = name.lower().replace(" ", "") + ".test"
    owner = await add_employee(container, organization, f"owner@{domain}", Role.OWNER)
    staff = await add_employee(container, organization, f"staff@{domain}", Role.STAFF)
    return Tenant(organization, owner, staff)


async def add_superuser(container: AsyncContainer, email: str = "root@kalamna.test") -> Principal:
    return principal(await add_employee(container, None, email, Role.SUPERUSER, full_name="Root"))


async def call(container: AsyncContainer, use_case: type[T], action: Callable[[T], Awaitable[Any]]) -> Any:
    """Resolve ``use_case`` in a request scope of its own (one HTTP request) and run ``action``."""
    async with container() as scope:
        return await action(await scope.get(use_case))


async def mails(container: AsyncContainer) -> list[EmailMessage]:
    """Mails queued through the outbox, each with its delivery job, oldest first."""
    outbox = await container.get(MemoryMailOutbox)
    jobs = await container.get(MemoryJobQueue)
    delivered = [job.kwargs["outbox_id"] for job in jobs.jobs if job.task == DELIVER_EMAIL]
    assert delivered == [str(mail_id) for mail_id in outbox.messages], "one delivery job per mail"
    return list(outbox.messages.values())


def link_token(message: EmailMessage) -> str:
    """The raw token of the accept-invitation link of ``message``."""
    found = re.search(r"accept-invitation\?token=([^\s\"<&]+)", message.text)
    assert found, message.text
    return unquote(found.group(1))
