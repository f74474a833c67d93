"""Organizations and employees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dishka import AsyncContainer

from kalamna.domain.errors import EmailTaken
from kalamna.domain.identity import EmployeeStatus, OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.invitations import Invitation
from kalamna.domain.pages import PageRequest
from kalamna.domain.tokens import OneTimeToken, RefreshSession, TokenPurpose
from kalamna.ports.repositories import (
    EmployeeRepository,
    InvitationRepository,
    OneTimeTokenRepository,
    OrganizationRepository,
    RefreshSessionRepository,
)
from tests.integration.contracts.conftest import NOW, employee, in_scope, organization, read, seed

PAGE = PageRequest(20, 0)


async def test_organizations_round_trip_and_save_only_updates(container: AsyncContainer) -> None:
    acme = organization()
    acme.website, acme.timezone = "https://acme.test", "Africa/Cairo"
    await seed(container, (acme, []))
    assert await read(container, OrganizationRepository, lambda r: r.get(acme.id)) == acme
    # Entities stamp updated_at when they change (PostgreSQL's audit listener would stamp the wall
    # clock over an unchanged updated_at, so a save always comes with a new one).
    acme.name, acme.status, acme.updated_at = (
        "Acme Ltd",
        OrganizationStatus.SUSPENDED,
        NOW + timedelta(minutes=1),
    )
    await in_scope(container, OrganizationRepository, lambda r: r.save(acme))
    assert await read(container, OrganizationRepository, lambda r: r.get(acme.id)) == acme
    assert await read(container, OrganizationRepository, lambda r: r.get(new_id())) is None
    with pytest.raises(LookupError):
        await in_scope(container, OrganizationRepository, lambda r: r.save(organization("Never added")))


async def test_organization_search_is_newest_first_filtered_and_literal(container: AsyncContainer) -> None:
    names = ["Alpha", "beta_shop", "Gamma", "Alphabet 100%"]
    orgs = [organization(name, at=NOW + timedelta(seconds=n)) for n, name in enumerate(names)]
    orgs[2].status = OrganizationStatus.SUSPENDED
    await seed(container, *((o, []) for o in orgs))

    async def search(
        status: OrganizationStatus | None, query: str | None, page: PageRequest = PAGE
    ) -> tuple[list[str], int]:
        found = await read(
            container, OrganizationRepository, lambda r: r.search(status=status, query=query, page=page)
        )
        return [o.name for o in found.items], found.total

    assert await search(None, None) == (list(reversed(names)), 4)
    assert await search(None, "ALPHA") == (["Alphabet 100%", "Alpha"], 2)
    assert await search(None, "%") == (["Alphabet 100%"], 1)
    assert await search(None, "_") == (["beta_shop"], 1)
    assert await search(OrganizationStatus.SUSPENDED, None) == (["Gamma"], 1)
    assert await search(None, None, PageRequest(2, 1)) == (["Gamma", "beta_shop"], 4)


async def test_employee_lookups_are_scoped_by_organization(container: AsyncContainer) -> None:
    acme, other = organization(), organization("Other")
    ann = employee(acme, "ann@acme.test")
    await seed(container, (acme, [ann]), (other, []))
    assert await read(container, EmployeeRepository, lambda r: r.get_in_organization(acme.id, ann.id)) == ann
    assert (
        await read(container, EmployeeRepository, lambda r: r.get_in_organization(other.id, ann.id)) is None
    )
    assert await read(container, EmployeeRepository, lambda r: r.get(ann.id)) == ann
    assert await read(container, EmployeeRepository, lambda r: r.get_by_email("ann@acme.test")) == ann
    assert await read(container, EmployeeRepository, lambda r: r.get_by_email("ANN@acme.test")) is None


async def test_an_email_belongs_to_one_employee(container: AsyncContainer) -> None:
    acme = organization()
    await seed(container, (acme, [employee(acme, "ann@acme.test")]))
    with pytest.raises(EmailTaken):
        await in_scope(container, EmployeeRepository, lambda r: r.add(employee(acme, "ann@acme.test")))


async def test_employee_save_updates_and_never_creates(container: AsyncContainer) -> None:
    acme = organization()
    ann = employee(acme, "ann@acme.test")
    await seed(container, (acme, [ann]))
    ann.full_name, ann.status, ann.last_login_at = "Ann B", EmployeeStatus.DISABLED, NOW
    ann.updated_at = NOW + timedelta(minutes=1)
    await in_scope(container, EmployeeRepository, lambda r: r.save(ann))
    assert await read(container, EmployeeRepository, lambda r: r.get(ann.id)) == ann
    with pytest.raises(LookupError):
        await in_scope(container, EmployeeRepository, lambda r: r.save(employee(acme, "new@acme.test")))


async def test_employee_search_counts_and_lists_in_joining_order(container: AsyncContainer) -> None:
    acme, other = organization(), organization("Other")
    members = [
        employee(acme, f"e{n}@acme.test", Role.OWNER if n < 2 else Role.STAFF, at=NOW + timedelta(seconds=n))
        for n in range(5)
    ]
    members[1].status = EmployeeStatus.DISABLED
    await seed(container, (acme, members), (other, [employee(other, "o@other.test")]))

    async def search(
        role: Role | None, status: EmployeeStatus | None, page: PageRequest = PAGE
    ) -> tuple[list[str], int]:
        found = await read(
            container, EmployeeRepository, lambda r: r.search(acme.id, role=role, status=status, page=page)
        )
        return [e.email for e in found.items], found.total

    emails = [m.email for m in members]
    assert await search(None, None) == (emails, 5)
    assert await search(Role.STAFF, None, PageRequest(1, 1)) == ([emails[3]], 3)
    assert await search(Role.OWNER, EmployeeStatus.ACTIVE) == ([emails[0]], 1)
    listed = await read(container, EmployeeRepository, lambda r: r.list_by_organization(acme.id))
    assert [e.email for e in listed] == emails
    assert await read(container, EmployeeRepository, lambda r: r.count_active_owners(acme.id)) == 1
    assert await read(container, EmployeeRepository, lambda r: r.count_active_owners(acme.id, lock=True)) == 1


async def test_deleting_an_employee_takes_their_sessions_and_tokens(container: AsyncContainer) -> None:
    acme = organization()
    ann, bob = employee(acme, "ann@acme.test"), employee(acme, "bob@acme.test", Role.STAFF)
    await seed(container, (acme, [ann, bob]))
    invitation = Invitation(
        new_id(), acme.id, "c@acme.test", Role.STAFF, bob.id, NOW + timedelta(days=1), NOW
    )
    async with container() as scope:
        await (await scope.get(InvitationRepository)).add(invitation)
        await (await scope.get(RefreshSessionRepository)).add(
            RefreshSession(new_id(), new_id(), bob.id, "refresh-bob", NOW + timedelta(days=1), NOW)
        )
        await (await scope.get(OneTimeTokenRepository)).add(
            OneTimeToken(
                new_id(), TokenPurpose.RESET_PASSWORD, "reset-bob", NOW + timedelta(hours=1), NOW, bob.id
            )
        )
        from kalamna.ports.repositories import UnitOfWork

        await (await scope.get(UnitOfWork)).commit()

    await in_scope(container, EmployeeRepository, lambda r: r.delete(new_id(), bob.id))  # wrong tenant
    assert await read(container, EmployeeRepository, lambda r: r.get(bob.id)) == bob
    await in_scope(container, EmployeeRepository, lambda r: r.delete(acme.id, bob.id))
    assert await read(container, EmployeeRepository, lambda r: r.get(bob.id)) is None
    assert await read(container, RefreshSessionRepository, lambda r: r.find("refresh-bob")) is None
    assert (
        await read(
            container, OneTimeTokenRepository, lambda r: r.find("reset-bob", TokenPurpose.RESET_PASSWORD)
        )
        is None
    )
    kept = await read(container, InvitationRepository, lambda r: r.get(acme.id, invitation.id))
    assert kept is not None and kept.invited_by is None
    assert await read(container, EmployeeRepository, lambda r: r.get(ann.id)) == ann
