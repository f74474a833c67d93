"""Invitations: invite, list, revoke, resend, verify and accept (``application/team.py``), resolved
from the production container with in-memory adapters. The invitation link is the only place the
raw token exists: the store keeps its digest."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from uuid import UUID

import pytest
from dishka import AsyncContainer

from kalamna.adapters.memory.identity import MemoryStore
from kalamna.adapters.memory.security import FixedClock
from kalamna.application.auth.principal import AuthenticateAccessToken, Principal
from kalamna.application.team import (
    AcceptInvitation,
    EmployeeChanges,
    InviteEmployee,
    ListInvitations,
    RemoveEmployee,
    ResendInvitation,
    RevokeInvitation,
    UpdateEmployee,
    VerifyInvitation,
)
from kalamna.domain.errors import (
    EmailTaken,
    Forbidden,
    InvalidInput,
    InvalidToken,
    NotFound,
    OrganizationSuspended,
)
from kalamna.domain.identity import EmployeeStatus, OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.invitations import Invitation, InvitationStatus
from kalamna.domain.pages import PageRequest
from kalamna.domain.tokens import TokenPurpose
from tests.unit.world import Tenant, add_employee, add_superuser, call, link_token, mails

PASSWORD = "a long and unusual passphrase"
WEEK = timedelta(days=7)


async def invite(
    container: AsyncContainer, tenant: Tenant, email: str = "new@acme.test", role: Role = Role.STAFF
) -> Invitation:
    return await call(  # type: ignore[no-any-return]
        container, InviteEmployee, lambda uc: uc(tenant.as_owner, tenant.id, email, role)
    )


async def last_link(container: AsyncContainer, to: str) -> str:
    return link_token([m for m in await mails(container) if m.to == to][-1])


async def accept(container: AsyncContainer, token: str, name: str = "Nour", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return await call(container, AcceptInvitation, lambda uc: uc(token, name, password))


async def verify(container: AsyncContainer, token: str):  # type: ignore[no-untyped-def]
    return await call(container, VerifyInvitation, lambda uc: uc(token))


async def stored(container: AsyncContainer, invitation_id: UUID) -> Invitation:
    return (await container.get(MemoryStore)).invitations[invitation_id]


async def status_of(container: AsyncContainer, invitation_id: UUID) -> InvitationStatus:
    return (await stored(container, invitation_id)).status((await container.get(FixedClock)).now())


# --- InviteEmployee -------------------------------------------------------------------------------


async def test_an_invitation_is_stored_and_mailed_with_a_link_whose_token_is_kept_as_a_digest(
    container: AsyncContainer, acme: Tenant
) -> None:
    clock = await container.get(FixedClock)
    invitation = await invite(container, acme, "  New@Acme.TEST ", Role.OWNER)
    assert (invitation.organization_id, invitation.email, invitation.role, invitation.invited_by) == (
        acme.id,
        "new@acme.test",
        Role.OWNER,
        acme.owner.id,
    )
    assert (invitation.created_at, invitation.expires_at) == (clock.now(), clock.now() + WEEK)
    assert await stored(container, invitation.id) == invitation
    [mail] = await mails(container)
    assert (mail.to, mail.subject) == ("new@acme.test", "Owner invited you to Acme on Kalamna")
    assert "as owner" in mail.text and "expires in 7 days" in mail.text
    raw = link_token(mail)
    [token] = (await container.get(MemoryStore)).tokens.values()
    assert (token.purpose, token.invitation_id, token.expires_at) == (
        TokenPurpose.INVITATION,
        invitation.id,
        invitation.expires_at,
    )
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in repr(await container.get(MemoryStore))


async def test_a_second_invitation_to_a_pending_email_replaces_the_first(
    container: AsyncContainer, acme: Tenant
) -> None:
    first = await invite(container, acme, "new@acme.test", Role.STAFF)
    first_link = await last_link(container, "new@acme.test")
    second = await invite(container, acme, "NEW@acme.test", Role.OWNER)
    assert await status_of(container, first.id) is InvitationStatus.REVOKED
    assert await status_of(container, second.id) is InvitationStatus.PENDING
    with pytest.raises(InvalidToken):
        await verify(container, first_link)
    details = await verify(container, await last_link(container, "new@acme.test"))
    assert (details.invitation.id, details.invitation.role) == (second.id, Role.OWNER)


async def test_the_same_email_may_be_pending_in_two_organizations(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    ours = await invite(container, acme, "new@mail.test")
    theirs = await invite(container, other, "new@mail.test")
    assert await status_of(container, ours.id) is InvitationStatus.PENDING
    assert await status_of(container, theirs.id) is InvitationStatus.PENDING


@pytest.mark.parametrize(
    ("email", "role", "error", "key"),
    [
        ("new@acme.test", Role.SUPERUSER, InvalidInput, "role"),
        ("not-an-email", Role.STAFF, InvalidInput, "email"),
        ("STAFF@other.test", Role.STAFF, EmailTaken, None),  # an employee of any organization
    ],
)
async def test_refused_invitations_store_and_mail_nothing(
    container: AsyncContainer,
    acme: Tenant,
    other: Tenant,
    email: str,
    role: Role,
    error: type[Exception],
    key: str | None,
) -> None:
    with pytest.raises(error) as raised:
        await invite(container, acme, email, role)
    if key is not None:
        assert raised.value.extra == {"fields": [{"key": key}]}  # type: ignore[attr-defined]
    store = await container.get(MemoryStore)
    assert (store.invitations, store.tokens, await mails(container)) == ({}, {}, [])


async def test_only_owners_of_the_organization_invite(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    with pytest.raises(Forbidden):
        await call(
            container, InviteEmployee, lambda uc: uc(acme.as_staff, acme.id, "x@acme.test", Role.STAFF)
        )
    with pytest.raises(NotFound):
        await call(
            container, InviteEmployee, lambda uc: uc(acme.as_owner, other.id, "x@acme.test", Role.STAFF)
        )
    root = await add_superuser(container)
    with pytest.raises(NotFound):
        await call(container, InviteEmployee, lambda uc: uc(root, new_id(), "x@acme.test", Role.STAFF))
    assert (await container.get(MemoryStore)).invitations == {}


# --- ListInvitations ------------------------------------------------------------------------------


async def test_invitations_are_listed_newest_first_by_status_paged_and_scoped(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    clock = await container.get(FixedClock)
    early = await invite(container, acme, "early@acme.test")
    clock.advance(timedelta(days=3))
    revoked = await invite(container, acme, "revoked@acme.test")
    await call(container, RevokeInvitation, lambda uc: uc(acme.as_owner, acme.id, revoked.id))
    clock.advance(timedelta(days=3))
    late = await invite(container, acme, "late@acme.test")
    await invite(container, other, "theirs@other.test")
    clock.advance(timedelta(days=2))  # "early" is now 8 days old: expired

    async def emails(
        status: InvitationStatus | None, page: PageRequest = PageRequest()
    ) -> tuple[list[str], int]:
        found = await call(container, ListInvitations, lambda uc: uc(acme.as_owner, acme.id, status, page))
        return [i.email for i in found.items], found.total

    assert await emails(None) == ([late.email, revoked.email, early.email], 3)
    assert await emails(InvitationStatus.PENDING) == ([late.email], 1)
    assert await emails(InvitationStatus.EXPIRED) == ([early.email], 1)
    assert await emails(InvitationStatus.REVOKED) == ([revoked.email], 1)
    assert await emails(InvitationStatus.ACCEPTED) == ([], 0)
    assert await emails(None, PageRequest(1, 1)) == ([revoked.email], 3)
    assert await emails(None, PageRequest(5, 3)) == ([], 3)


async def test_staff_may_not_list_invitations_nor_anyone_another_organization_s(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    with pytest.raises(Forbidden):
        await call(container, ListInvitations, lambda uc: uc(acme.as_staff, acme.id, None, PageRequest()))
    with pytest.raises(NotFound):
        await call(container, ListInvitations, lambda uc: uc(acme.as_owner, other.id, None, PageRequest()))


# --- RevokeInvitation -----------------------------------------------------------------------------


async def test_a_revoked_invitation_s_link_stops_working(container: AsyncContainer, acme: Tenant) -> None:
    clock = await container.get(FixedClock)
    invitation = await invite(container, acme)
    link = await last_link(container, invitation.email)
    await call(container, RevokeInvitation, lambda uc: uc(acme.as_owner, acme.id, invitation.id))
    assert (await stored(container, invitation.id)).revoked_at == clock.now()
    assert [t.revoked_at for t in (await container.get(MemoryStore)).tokens.values()] == [clock.now()]
    with pytest.raises(InvalidToken):
        await verify(container, link)
    with pytest.raises(InvalidToken):
        await accept(container, link)


async def test_revoking_an_accepted_invitation_leaves_it_accepted(
    container: AsyncContainer, acme: Tenant
) -> None:
    invitation = await invite(container, acme)
    await accept(container, await last_link(container, invitation.email))
    await call(container, RevokeInvitation, lambda uc: uc(acme.as_owner, acme.id, invitation.id))
    assert await status_of(container, invitation.id) is InvitationStatus.ACCEPTED


async def test_an_invitation_of_another_organization_cannot_be_revoked(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    theirs = await invite(container, other, "new@other.test")
    for organization_id, invitation_id in [(acme.id, theirs.id), (other.id, theirs.id), (acme.id, new_id())]:
        with pytest.raises(NotFound):
            await call(
                container,
                RevokeInvitation,
                lambda uc, o=organization_id, i=invitation_id: uc(acme.as_owner, o, i),
            )
    with pytest.raises(Forbidden):
        await call(container, RevokeInvitation, lambda uc: uc(other.as_staff, other.id, theirs.id))
    assert await status_of(container, theirs.id) is InvitationStatus.PENDING


# --- ResendInvitation -----------------------------------------------------------------------------


async def test_resending_mails_a_new_link_and_kills_the_old_one(
    container: AsyncContainer, acme: Tenant
) -> None:
    clock = await container.get(FixedClock)
    invitation = await invite(container, acme)
    old_link = await last_link(container, invitation.email)
    second_owner = await add_employee(
        container, acme.organization, "second@acme.test", Role.OWNER, full_name="Hoda"
    )
    clock.advance(timedelta(days=2))
    resent = await call(
        container,
        ResendInvitation,
        lambda uc: uc(Principal(second_owner.id, acme.id, Role.OWNER, "jti", 0.0), acme.id, invitation.id),
    )
    assert (resent.id, resent.expires_at, resent.invited_by) == (
        invitation.id,
        clock.now() + WEEK,
        second_owner.id,
    )
    assert await stored(container, invitation.id) == resent
    assert len(await mails(container)) == 2
    new_link = await last_link(container, invitation.email)
    assert new_link != old_link
    with pytest.raises(InvalidToken):
        await verify(container, old_link)
    details = await verify(container, new_link)
    assert (details.invitation.expires_at, details.inviter_name) == (clock.now() + WEEK, "Hoda")


async def test_an_expired_invitation_is_renewed_by_resending(container: AsyncContainer, acme: Tenant) -> None:
    clock = await container.get(FixedClock)
    invitation = await invite(container, acme)
    clock.advance(WEEK)
    assert await status_of(container, invitation.id) is InvitationStatus.EXPIRED
    with pytest.raises(InvalidToken):
        await verify(container, await last_link(container, invitation.email))
    await call(container, ResendInvitation, lambda uc: uc(acme.as_owner, acme.id, invitation.id))
    assert await status_of(container, invitation.id) is InvitationStatus.PENDING
    signed_in = await accept(container, await last_link(container, invitation.email))
    assert signed_in.employee.organization_id == acme.id


@pytest.mark.parametrize("end", ["accepted", "revoked"])
async def test_a_used_or_revoked_invitation_cannot_be_resent(
    container: AsyncContainer, acme: Tenant, end: str
) -> None:
    invitation = await invite(container, acme)
    if end == "accepted":
        await accept(container, await last_link(container, invitation.email))
    else:
        await call(container, RevokeInvitation, lambda uc: uc(acme.as_owner, acme.id, invitation.id))
    before = await stored(container, invitation.id)
    with pytest.raises(InvalidInput, match="already used or revoked"):
        await call(container, ResendInvitation, lambda uc: uc(acme.as_owner, acme.id, invitation.id))
    assert await stored(container, invitation.id) == before
    assert len(await mails(container)) == 1


async def test_an_invitation_of_another_organization_cannot_be_resent(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    theirs = await invite(container, other, "new@other.test")
    with pytest.raises(NotFound):
        await call(container, ResendInvitation, lambda uc: uc(acme.as_owner, acme.id, theirs.id))
    with pytest.raises(NotFound):
        await call(container, ResendInvitation, lambda uc: uc(acme.as_owner, other.id, theirs.id))
    with pytest.raises(Forbidden):
        await call(container, ResendInvitation, lambda uc: uc(other.as_staff, other.id, theirs.id))
    assert len(await mails(container)) == 1


# --- VerifyInvitation -----------------------------------------------------------------------------


async def test_a_good_link_shows_the_organization_the_role_and_the_inviter(
    container: AsyncContainer, acme: Tenant
) -> None:
    invitation = await invite(container, acme, role=Role.OWNER)
    details = await verify(container, await last_link(container, invitation.email))
    assert (details.invitation, details.organization, details.inviter_name) == (
        invitation,
        acme.organization,
        "Owner",
    )


async def test_a_link_stops_working_when_it_expires(container: AsyncContainer, acme: Tenant) -> None:
    clock = await container.get(FixedClock)
    invitation = await invite(container, acme)
    link = await last_link(container, invitation.email)
    clock.advance(WEEK - timedelta(seconds=1))
    assert (await verify(container, link)).invitation.id == invitation.id
    clock.advance(timedelta(seconds=1))
    with pytest.raises(InvalidToken):
        await verify(container, link)
    with pytest.raises(InvalidToken):
        await accept(container, link)


@pytest.mark.parametrize("token", ["", "made-up-token", "klm_" + "x" * 43])
async def test_an_unknown_link_is_invalid(container: AsyncContainer, acme: Tenant, token: str) -> None:
    await invite(container, acme)
    with pytest.raises(InvalidToken):
        await verify(container, token)


async def test_a_token_of_another_purpose_is_not_an_invitation(
    container: AsyncContainer, acme: Tenant
) -> None:
    invitation = await invite(container, acme)
    link = await last_link(container, invitation.email)
    store = await container.get(MemoryStore)
    [token] = store.tokens.values()
    token.purpose = TokenPurpose.RESET_PASSWORD
    store.commit()
    with pytest.raises(InvalidToken):
        await verify(container, link)


@pytest.mark.parametrize("status", [OrganizationStatus.SUSPENDED, OrganizationStatus.PENDING])
async def test_the_link_needs_an_active_organization(
    container: AsyncContainer, acme: Tenant, status: OrganizationStatus
) -> None:
    invitation = await invite(container, acme)
    store = await container.get(MemoryStore)
    store.organizations[acme.id].status = status
    store.commit()
    with pytest.raises(InvalidToken):
        await verify(container, await last_link(container, invitation.email))


async def test_the_superuser_cannot_invite_into_a_suspended_organization(
    container: AsyncContainer, acme: Tenant
) -> None:
    store = await container.get(MemoryStore)
    store.organizations[acme.id].status = OrganizationStatus.SUSPENDED
    store.commit()
    root = await add_superuser(container)
    with pytest.raises(OrganizationSuspended):
        await call(container, InviteEmployee, lambda uc: uc(root, acme.id, "new@acme.test", Role.STAFF))
    assert store.invitations == {} and await mails(container) == []


async def test_the_link_of_a_disabled_or_removed_inviter_stops_working(
    container: AsyncContainer, acme: Tenant
) -> None:
    second = await add_employee(container, acme.organization, "second@acme.test", Role.OWNER)
    as_second = Principal(second.id, acme.id, Role.OWNER, "jti", 0.0)
    by_owner = await invite(container, acme, "a@mail.test")
    by_second = await call(
        container, InviteEmployee, lambda uc: uc(as_second, acme.id, "b@mail.test", Role.STAFF)
    )
    await call(
        container,
        UpdateEmployee,
        lambda uc: uc(acme.as_owner, acme.id, second.id, EmployeeChanges(status=EmployeeStatus.DISABLED)),
    )
    with pytest.raises(InvalidToken):
        await verify(container, await last_link(container, by_second.email))
    await call(
        container,
        UpdateEmployee,
        lambda uc: uc(acme.as_owner, acme.id, second.id, EmployeeChanges(status=EmployeeStatus.ACTIVE)),
    )
    assert (await verify(container, await last_link(container, by_second.email))).inviter_name == "Second"
    await call(container, RemoveEmployee, lambda uc: uc(acme.as_owner, acme.id, second.id))
    with pytest.raises(InvalidToken):
        await verify(container, await last_link(container, by_second.email))
    assert (await verify(container, await last_link(container, by_owner.email))).invitation.id == by_owner.id


# --- AcceptInvitation -----------------------------------------------------------------------------


async def test_accepting_creates_an_active_employee_with_the_invited_role_and_signs_them_in(
    container: AsyncContainer, acme: Tenant
) -> None:
    clock = await container.get(FixedClock)
    invitation = await invite(container, acme, "new@acme.test", Role.OWNER)
    link = await last_link(container, invitation.email)
    clock.advance(timedelta(hours=1))
    signed_in = await accept(container, link, "  Nour Ali ")
    employee = signed_in.employee
    assert (employee.organization_id, employee.email, employee.full_name, employee.role, employee.status) == (
        acme.id,
        "new@acme.test",
        "Nour Ali",
        Role.OWNER,
        EmployeeStatus.ACTIVE,
    )
    assert employee.email_verified_at == employee.last_login_at == clock.now()
    assert employee.password_hash.startswith("$argon2id$") and PASSWORD not in employee.password_hash
    assert signed_in.organization == acme.organization
    store = await container.get(MemoryStore)
    assert store.employees[employee.id] == employee
    assert (await stored(container, invitation.id)).accepted_at == clock.now()
    assert [t.used_at for t in store.tokens.values()] == [clock.now()]
    [session] = store.sessions.values()
    assert session.employee_id == employee.id
    assert session.token_hash == hashlib.sha256(signed_in.tokens.refresh_token.encode()).hexdigest()
    principal = await call(container, AuthenticateAccessToken, lambda uc: uc(signed_in.tokens.access_token))
    assert (principal.employee_id, principal.organization_id, principal.role) == (
        employee.id,
        acme.id,
        Role.OWNER,
    )
    with pytest.raises(InvalidToken):  # a link is used once
        await accept(container, link, "Someone Else")


@pytest.mark.parametrize(
    ("name", "password", "key"),
    [("Nour", "short", "password"), ("Nour", "password1", "password"), ("   ", PASSWORD, "full_name")],
)
async def test_a_refused_acceptance_creates_nothing_and_the_link_still_works(
    container: AsyncContainer, acme: Tenant, name: str, password: str, key: str
) -> None:
    invitation = await invite(container, acme)
    link = await last_link(container, invitation.email)
    with pytest.raises(InvalidInput) as raised:
        await accept(container, link, name, password)
    assert raised.value.extra is not None
    assert [f["key"] for f in raised.value.extra["fields"]] == [key]
    store = await container.get(MemoryStore)
    assert (len(store.employees), store.sessions) == (2, {})
    assert await status_of(container, invitation.id) is InvitationStatus.PENDING
    assert (await accept(container, link)).employee.email == invitation.email


async def test_an_email_registered_meanwhile_cannot_accept(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    invitation = await invite(container, acme, "new@mail.test")
    link = await last_link(container, invitation.email)
    await add_employee(container, other.organization, "new@mail.test")
    with pytest.raises(EmailTaken):
        await accept(container, link)
    assert await status_of(container, invitation.id) is InvitationStatus.PENDING
    assert [t.used_at for t in (await container.get(MemoryStore)).tokens.values()] == [None]
