"""Invitations, API credentials and bot configurations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dishka import AsyncContainer

from kalamna.domain.api_keys import ApiCredential
from kalamna.domain.bot_config import BotConfig, WidgetSettings
from kalamna.domain.identity import Organization, Role
from kalamna.domain.ids import new_id
from kalamna.domain.invitations import Invitation, InvitationStatus
from kalamna.domain.pages import PageRequest
from kalamna.ports.repositories import ApiCredentialRepository, BotConfigRepository, InvitationRepository
from tests.integration.contracts.conftest import NOW, in_scope, organization, read, seed

DAY = timedelta(days=1)


async def two_organizations(container: AsyncContainer) -> tuple[Organization, Organization]:
    acme, other = organization(), organization("Other")
    await seed(container, (acme, []), (other, []))
    return acme, other


def invitation(org: Organization, email: str, *, at: int = 0, expires: timedelta = DAY) -> Invitation:
    created = NOW + timedelta(seconds=at)
    return Invitation(new_id(), org.id, email, Role.STAFF, None, created + expires, created)


async def test_invitations_by_status_newest_first_and_scoped(container: AsyncContainer) -> None:
    acme, other = await two_organizations(container)
    pending = invitation(acme, "p@acme.test", at=0)
    accepted = invitation(acme, "a@acme.test", at=1)
    accepted.accepted_at = NOW
    revoked = invitation(acme, "r@acme.test", at=2)
    revoked.revoked_at = NOW
    expired = invitation(acme, "e@acme.test", at=3, expires=-timedelta(seconds=1))
    theirs = invitation(other, "p@acme.test", at=4)
    for item in (pending, accepted, revoked, expired, theirs):
        await in_scope(container, InvitationRepository, lambda r, i=item: r.add(i))

    async def emails(
        status: InvitationStatus | None, page: PageRequest = PageRequest(20, 0)
    ) -> tuple[list[str], int]:
        found = await read(
            container,
            InvitationRepository,
            lambda r: r.search(acme.id, status=status, now=NOW + timedelta(seconds=10), page=page),
        )
        return [i.email for i in found.items], found.total

    assert await emails(None) == (["e@acme.test", "r@acme.test", "a@acme.test", "p@acme.test"], 4)
    assert await emails(None, PageRequest(2, 1)) == (["r@acme.test", "a@acme.test"], 4)
    for status, email in [
        (InvitationStatus.PENDING, "p@acme.test"),
        (InvitationStatus.ACCEPTED, "a@acme.test"),
        (InvitationStatus.REVOKED, "r@acme.test"),
        (InvitationStatus.EXPIRED, "e@acme.test"),
    ]:
        assert await emails(status) == ([email], 1), status
    assert await read(container, InvitationRepository, lambda r: r.get(acme.id, pending.id)) == pending
    assert await read(container, InvitationRepository, lambda r: r.get(other.id, pending.id)) is None
    assert await read(container, InvitationRepository, lambda r: r.get_by_id(theirs.id)) == theirs


async def test_the_pending_invitation_of_an_email_is_the_newest_usable_one(container: AsyncContainer) -> None:
    acme, other = await two_organizations(container)
    first, second = invitation(acme, "x@acme.test", at=0), invitation(acme, "x@acme.test", at=1)
    late = invitation(acme, "x@acme.test", at=2, expires=-timedelta(seconds=1))
    for item in (first, second, late):
        await in_scope(container, InvitationRepository, lambda r, i=item: r.add(i))
    now = NOW + timedelta(seconds=5)
    assert (
        await read(
            container, InvitationRepository, lambda r: r.find_pending_by_email(acme.id, "x@acme.test", now)
        )
        == second
    )
    assert (
        await read(
            container, InvitationRepository, lambda r: r.find_pending_by_email(other.id, "x@acme.test", now)
        )
        is None
    )
    second.revoked_at = now
    await in_scope(container, InvitationRepository, lambda r: r.save(second))
    assert (
        await read(
            container, InvitationRepository, lambda r: r.find_pending_by_email(acme.id, "x@acme.test", now)
        )
        == first
    )
    with pytest.raises(LookupError):
        await in_scope(container, InvitationRepository, lambda r: r.save(invitation(acme, "never@acme.test")))


async def test_api_credentials_one_active_key_per_organization(container: AsyncContainer) -> None:
    acme, other = await two_organizations(container)
    old = ApiCredential(new_id(), acme.id, "hash-old", "klm_old", NOW)
    new = ApiCredential(new_id(), acme.id, "hash-new", "klm_new", NOW + timedelta(seconds=1))
    theirs = ApiCredential(new_id(), other.id, "hash-theirs", "klm_the", NOW)
    for item in (old, new, theirs):
        await in_scope(container, ApiCredentialRepository, lambda r, c=item: r.add(c))
    assert await read(container, ApiCredentialRepository, lambda r: r.active_for(acme.id)) == new
    assert await read(container, ApiCredentialRepository, lambda r: r.find_active_by_hash("hash-old")) == old
    used = NOW + timedelta(minutes=5)
    await in_scope(container, ApiCredentialRepository, lambda r: r.touch(new.id, used))
    assert (
        await read(container, ApiCredentialRepository, lambda r: r.active_for(acme.id))
    ).last_used_at == used
    await in_scope(container, ApiCredentialRepository, lambda r: r.revoke_all(acme.id, used))
    assert await read(container, ApiCredentialRepository, lambda r: r.active_for(acme.id)) is None
    assert await read(container, ApiCredentialRepository, lambda r: r.find_active_by_hash("hash-new")) is None
    assert await read(container, ApiCredentialRepository, lambda r: r.active_for(other.id)) == theirs


async def test_bot_configuration_round_trips_whole(container: AsyncContainer) -> None:
    acme, other = await two_organizations(container)
    config = BotConfig(acme.id, NOW)
    await in_scope(container, BotConfigRepository, lambda r: r.add(config))
    assert await read(container, BotConfigRepository, lambda r: r.get(acme.id)) == config
    config.bot_name, config.temperature, config.top_k = "Sara", 0.7, 3
    config.suggested_questions = ["Hours?", "Refunds?"]
    config.widget = WidgetSettings("#000000", "left", ["https://shop.test"])
    config.updated_at = NOW + timedelta(minutes=1)
    await in_scope(container, BotConfigRepository, lambda r: r.save(config))
    assert await read(container, BotConfigRepository, lambda r: r.get(acme.id)) == config
    assert await read(container, BotConfigRepository, lambda r: r.get(other.id)) is None
    with pytest.raises(LookupError):
        await in_scope(container, BotConfigRepository, lambda r: r.save(BotConfig(other.id, NOW)))
