"""Platform administration by the superuser: ``application/platform.py`` resolved from the
production container with in-memory adapters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dishka import AsyncContainer

from kalamna.adapters.memory.identity import MemoryStore
from kalamna.adapters.memory.security import FixedClock, MemoryRevocationStore
from kalamna.application.auth.principal import Principal
from kalamna.application.credentials import AuthenticateApiKey, RotateApiKey
from kalamna.application.platform import (
    AdministerOrganization,
    CreateOrganization,
    ListOrganizations,
    NewOrganization,
)
from kalamna.application.team import InviteEmployee, VerifyInvitation
from kalamna.domain.errors import (
    EmailTaken,
    Forbidden,
    InvalidInput,
    InvalidToken,
    NotAuthenticated,
    NotFound,
)
from kalamna.domain.identity import Organization, OrganizationStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.invitations import InvitationStatus
from kalamna.domain.pages import PageRequest
from tests.unit.world import Tenant, add_organization, add_superuser, add_tenant, call, link_token, mails


@pytest.fixture
async def root(container: AsyncContainer) -> Principal:
    return await add_superuser(container)


async def names(
    container: AsyncContainer,
    by: Principal,
    *,
    status: OrganizationStatus | None = None,
    query: str | None = None,
    page: PageRequest = PageRequest(),
) -> tuple[list[str], int]:
    found = await call(container, ListOrganizations, lambda uc: uc(by, status=status, query=query, page=page))
    assert (found.limit, found.offset) == (page.limit, page.offset)
    return [o.name for o in found.items], found.total


async def administer(
    container: AsyncContainer,
    by: Principal,
    organization_id: object,
    status: OrganizationStatus | None = None,
    **profile: str | None,
) -> Organization:
    return await call(  # type: ignore[no-any-return]
        container, AdministerOrganization, lambda uc: uc(by, organization_id, status=status, profile=profile)
    )


# --- ListOrganizations ----------------------------------------------------------------------------


async def test_the_superuser_lists_every_organization_newest_first(
    container: AsyncContainer, root: Principal
) -> None:
    clock = await container.get(FixedClock)
    for name, status in [
        ("Alpha Foods", OrganizationStatus.ACTIVE),
        ("Beta Travel", OrganizationStatus.SUSPENDED),
        ("Gamma Foods", OrganizationStatus.PENDING),
    ]:
        clock.advance(timedelta(minutes=1))
        await add_organization(container, name, status=status)
    assert await names(container, root) == (["Gamma Foods", "Beta Travel", "Alpha Foods"], 3)
    assert await names(container, root, status=OrganizationStatus.SUSPENDED) == (["Beta Travel"], 1)
    assert await names(container, root, query="  foods ") == (["Gamma Foods", "Alpha Foods"], 2)
    assert await names(container, root, query="FOODS", status=OrganizationStatus.ACTIVE) == (
        ["Alpha Foods"],
        1,
    )
    assert await names(container, root, query="   ") == (["Gamma Foods", "Beta Travel", "Alpha Foods"], 3)
    assert await names(container, root, query="%") == ([], 0)


async def test_organizations_are_paged_with_the_total_of_every_page(
    container: AsyncContainer, root: Principal
) -> None:
    clock = await container.get(FixedClock)
    for n in range(5):
        clock.advance(timedelta(minutes=1))
        await add_organization(container, f"Org {n}")
    assert await names(container, root, page=PageRequest(2, 0)) == (["Org 4", "Org 3"], 5)
    assert await names(container, root, page=PageRequest(2, 4)) == (["Org 0"], 5)
    assert await names(container, root, page=PageRequest(2, 5)) == ([], 5)
    assert await names(container, root, page=PageRequest(100, 0)) == (
        [f"Org {n}" for n in range(4, -1, -1)],
        5,
    )


async def test_owners_and_staff_may_not_list_organizations(container: AsyncContainer) -> None:
    acme = await add_tenant(container)
    for who in (acme.as_owner, acme.as_staff):
        with pytest.raises(Forbidden):
            await names(container, who)


# --- CreateOrganization ---------------------------------------------------------------------------


async def test_a_created_organization_is_active_with_defaults_and_its_owner_invited(
    container: AsyncContainer, root: Principal
) -> None:
    clock = await container.get(FixedClock)
    data = NewOrganization(
        profile={"name": " Nile Tours ", "industry": "Travel", "timezone": "Africa/Cairo"},
        owner_email=" Boss@Nile.TEST ",
        owner_full_name="Boss",
    )
    organization, invitation = await call(container, CreateOrganization, lambda uc: uc(root, data))
    assert (organization.name, organization.industry, organization.timezone, organization.status) == (
        "Nile Tours",
        "Travel",
        "Africa/Cairo",
        OrganizationStatus.ACTIVE,
    )
    assert organization.created_at == organization.updated_at == clock.now()
    assert (invitation.organization_id, invitation.email, invitation.role, invitation.invited_by) == (
        organization.id,
        "boss@nile.test",
        Role.OWNER,
        root.employee_id,
    )
    assert invitation.expires_at == clock.now() + timedelta(days=7)
    store = await container.get(MemoryStore)
    assert store.organizations[organization.id] == organization
    assert store.bot_configs[organization.id].bot_name == "Assistant"
    assert store.invitations == {invitation.id: invitation}
    [mail] = await mails(container)
    assert (mail.to, mail.subject) == ("boss@nile.test", "Root invited you to Nile Tours on Kalamna")
    assert "as owner" in mail.text
    details = await call(container, VerifyInvitation, lambda uc: uc(link_token(mail)))
    assert (details.organization.id, details.inviter_name) == (organization.id, "Root")


@pytest.mark.parametrize(
    ("profile", "email", "error"),
    [
        ({"name": "  "}, "boss@nile.test", InvalidInput),
        ({"name": "Nile", "website": "nile"}, "boss@nile.test", InvalidInput),
        ({"name": "Nile", "plan": "gold"}, "boss@nile.test", InvalidInput),
        ({"name": "Nile"}, "not an email", InvalidInput),
        ({"name": "Nile"}, "owner@acme.test", EmailTaken),
    ],
)
async def test_a_refused_creation_stores_and_mails_nothing(
    container: AsyncContainer,
    root: Principal,
    profile: dict[str, str | None],
    email: str,
    error: type[Exception],
) -> None:
    acme = await add_tenant(container)
    data = NewOrganization(profile=profile, owner_email=email, owner_full_name="Boss")
    with pytest.raises(error):
        await call(container, CreateOrganization, lambda uc: uc(root, data))
    store = await container.get(MemoryStore)
    assert (list(store.organizations), list(store.bot_configs), store.invitations) == (
        [acme.id],
        [acme.id],
        {},
    )
    assert await mails(container) == []


async def test_only_the_superuser_creates_organizations(container: AsyncContainer) -> None:
    acme = await add_tenant(container)
    data = NewOrganization(profile={"name": "Mine"}, owner_email="me@mine.test", owner_full_name="Me")
    with pytest.raises(Forbidden):
        await call(container, CreateOrganization, lambda uc: uc(acme.as_owner, data))
    assert list((await container.get(MemoryStore)).organizations) == [acme.id]


# --- AdministerOrganization -----------------------------------------------------------------------


async def test_suspension_cuts_sessions_widget_and_pending_invitations_for_good(
    container: AsyncContainer, root: Principal
) -> None:
    clock = await container.get(FixedClock)
    acme = await add_tenant(container)
    other = await add_tenant(container, "Other")
    raw_key, _ = await call(container, RotateApiKey, lambda uc: uc(acme.as_owner, acme.id))
    pending = await call(
        container, InviteEmployee, lambda uc: uc(acme.as_owner, acme.id, "new@acme.test", Role.STAFF)
    )
    theirs = await call(
        container, InviteEmployee, lambda uc: uc(other.as_owner, other.id, "new@other.test", Role.STAFF)
    )
    [acme_mail, other_mail] = await mails(container)
    clock.advance(timedelta(minutes=10))

    suspended = await administer(container, root, acme.id, OrganizationStatus.SUSPENDED)
    assert (suspended.status, suspended.updated_at) == (OrganizationStatus.SUSPENDED, clock.now())
    store = await container.get(MemoryStore)
    assert store.organizations[acme.id] == suspended
    assert store.invitations[pending.id].status(clock.now()) is InvitationStatus.REVOKED
    assert store.invitations[theirs.id].status(clock.now()) is InvitationStatus.PENDING
    revocations = await container.get(MemoryRevocationStore)
    assert revocations.organizations == {acme.id: clock.now().timestamp()}
    with pytest.raises(NotAuthenticated):
        await call(container, AuthenticateApiKey, lambda uc: uc(raw_key))
    with pytest.raises(InvalidToken):
        await call(container, VerifyInvitation, lambda uc: uc(link_token(acme_mail)))
    assert (
        await call(container, VerifyInvitation, lambda uc: uc(link_token(other_mail)))
    ).invitation == theirs

    clock.advance(timedelta(minutes=10))
    active = await administer(container, root, acme.id, OrganizationStatus.ACTIVE)
    assert (active.status, active.updated_at) == (OrganizationStatus.ACTIVE, clock.now())
    assert (await call(container, AuthenticateApiKey, lambda uc: uc(raw_key))).id == acme.id
    with pytest.raises(InvalidToken):  # reactivation does not revive the invitation
        await call(container, VerifyInvitation, lambda uc: uc(link_token(acme_mail)))
    assert revocations.organizations == {acme.id: (clock.now() - timedelta(minutes=10)).timestamp()}


async def test_suspending_a_suspended_organization_does_not_move_the_cut_off(
    container: AsyncContainer, root: Principal
) -> None:
    clock = await container.get(FixedClock)
    acme = await add_tenant(container)
    await administer(container, root, acme.id, OrganizationStatus.SUSPENDED)
    first_cut = clock.now().timestamp()
    clock.advance(timedelta(hours=1))
    again = await administer(container, root, acme.id, OrganizationStatus.SUSPENDED)
    assert again.status is OrganizationStatus.SUSPENDED
    assert (await container.get(MemoryRevocationStore)).organizations == {acme.id: first_cut}


async def test_the_profile_changes_without_touching_the_status(
    container: AsyncContainer, root: Principal
) -> None:
    clock = await container.get(FixedClock)
    acme = await add_tenant(container)
    clock.advance(timedelta(minutes=1))
    changed = await administer(container, root, acme.id, name="Acme Holding", country="EG")
    assert (changed.name, changed.country, changed.status, changed.updated_at) == (
        "Acme Holding",
        "EG",
        OrganizationStatus.ACTIVE,
        clock.now(),
    )
    assert (await container.get(MemoryStore)).organizations[acme.id] == changed
    assert (await container.get(MemoryRevocationStore)).organizations == {}


async def test_a_pending_organization_is_activated(container: AsyncContainer, root: Principal) -> None:
    organization = await add_organization(container, "New", status=OrganizationStatus.PENDING)
    assert (await administer(container, root, organization.id, OrganizationStatus.ACTIVE)).status is (
        OrganizationStatus.ACTIVE
    )


async def test_an_organization_cannot_be_set_back_to_pending(
    container: AsyncContainer, root: Principal
) -> None:
    acme = await add_tenant(container)
    with pytest.raises(InvalidInput) as raised:
        await administer(container, root, acme.id, OrganizationStatus.PENDING, name="Renamed")
    assert raised.value.extra == {"fields": [{"key": "status"}]}
    assert (await container.get(MemoryStore)).organizations[acme.id] == acme.organization


async def test_an_invalid_profile_changes_neither_profile_nor_status(
    container: AsyncContainer, root: Principal
) -> None:
    acme = await add_tenant(container)
    await call(container, InviteEmployee, lambda uc: uc(acme.as_owner, acme.id, "new@acme.test", Role.STAFF))
    with pytest.raises(InvalidInput):
        await administer(container, root, acme.id, OrganizationStatus.SUSPENDED, website="nope")
    store = await container.get(MemoryStore)
    assert store.organizations[acme.id] == acme.organization
    assert [i.revoked_at for i in store.invitations.values()] == [None]
    assert (await container.get(MemoryRevocationStore)).organizations == {}


async def test_an_unknown_organization_is_not_found(container: AsyncContainer, root: Principal) -> None:
    with pytest.raises(NotFound):
        await administer(container, root, new_id(), OrganizationStatus.SUSPENDED)


async def test_an_owner_may_not_administer_even_their_own_organization(container: AsyncContainer) -> None:
    acme: Tenant = await add_tenant(container)
    with pytest.raises(Forbidden):
        await administer(container, acme.as_owner, acme.id, OrganizationStatus.ACTIVE)
    with pytest.raises(Forbidden):
        await administer(container, acme.as_owner, acme.id, name="Renamed")
    assert (await container.get(MemoryStore)).organizations[acme.id] == acme.organization
