"""The widget API key: ``application/credentials.py`` resolved from the production container with
in-memory adapters. The key is shown once and stored only as a digest."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from dishka import AsyncContainer

from kalamna.adapters.memory.identity import MemoryStore
from kalamna.adapters.memory.security import FixedClock
from kalamna.application.credentials import (
    LAST_USED_EVERY_S,
    AuthenticateApiKey,
    CredentialStatus,
    GetCredentialStatus,
    RotateApiKey,
)
from kalamna.domain.api_keys import ApiCredential
from kalamna.domain.errors import Forbidden, NotAuthenticated, NotFound
from kalamna.domain.identity import OrganizationStatus
from kalamna.domain.ids import new_id
from tests.unit.world import Tenant, add_superuser, call


async def rotate(container: AsyncContainer, tenant: Tenant) -> tuple[str, ApiCredential]:
    result: tuple[str, ApiCredential] = await call(
        container, RotateApiKey, lambda uc: uc(tenant.as_owner, tenant.id)
    )
    return result


async def authenticate(container: AsyncContainer, raw: str):  # type: ignore[no-untyped-def]
    return await call(container, AuthenticateApiKey, lambda uc: uc(raw))


async def stored(container: AsyncContainer) -> dict[object, ApiCredential]:
    return dict((await container.get(MemoryStore)).credentials)


async def test_without_a_key_the_status_says_so(container: AsyncContainer, acme: Tenant) -> None:
    status = await call(container, GetCredentialStatus, lambda uc: uc(acme.as_owner, acme.id))
    assert status == CredentialStatus(False, None, None, None)


async def test_a_new_key_is_returned_once_and_stored_only_as_its_digest(
    container: AsyncContainer, acme: Tenant
) -> None:
    clock = await container.get(FixedClock)
    raw, credential = await rotate(container, acme)
    assert raw.startswith("klm_") and len(raw) > 40
    assert credential.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert (credential.organization_id, credential.display_prefix, credential.created_at) == (
        acme.id,
        raw[:12],
        clock.now(),
    )
    assert (credential.revoked_at, credential.last_used_at) == (None, None)
    assert await stored(container) == {credential.id: credential}
    assert raw not in repr(await container.get(MemoryStore)), "the plain key is stored nowhere"
    status = await call(container, GetCredentialStatus, lambda uc: uc(acme.as_owner, acme.id))
    assert status == CredentialStatus(True, raw[:12], clock.now(), None)
    assert raw not in repr(status)


async def test_rotation_revokes_the_previous_key_at_once(container: AsyncContainer, acme: Tenant) -> None:
    clock = await container.get(FixedClock)
    old_raw, old = await rotate(container, acme)
    clock.advance(timedelta(minutes=3))
    new_raw, new = await rotate(container, acme)
    assert new_raw != old_raw and new.key_hash != old.key_hash
    credentials = await stored(container)
    assert (credentials[old.id].revoked_at, credentials[new.id].revoked_at) == (clock.now(), None)
    with pytest.raises(NotAuthenticated):
        await authenticate(container, old_raw)
    assert (await authenticate(container, new_raw)).id == acme.id
    status = await call(container, GetCredentialStatus, lambda uc: uc(acme.as_owner, acme.id))
    assert (status.prefix, status.created_at) == (new_raw[:12], clock.now())


async def test_staff_may_neither_see_nor_rotate_the_key(container: AsyncContainer, acme: Tenant) -> None:
    with pytest.raises(Forbidden):
        await call(container, GetCredentialStatus, lambda uc: uc(acme.as_staff, acme.id))
    with pytest.raises(Forbidden):
        await call(container, RotateApiKey, lambda uc: uc(acme.as_staff, acme.id))
    assert await stored(container) == {}


async def test_the_key_of_another_organization_is_not_found(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    await rotate(container, other)
    with pytest.raises(NotFound):
        await call(container, GetCredentialStatus, lambda uc: uc(acme.as_owner, other.id))
    with pytest.raises(NotFound):
        await call(container, RotateApiKey, lambda uc: uc(acme.as_owner, other.id))
    assert [c.revoked_at for c in (await stored(container)).values()] == [None]


async def test_rotating_one_organization_key_leaves_the_others_working(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    acme_raw, _ = await rotate(container, acme)
    other_raw, _ = await rotate(container, other)
    await rotate(container, acme)
    assert (await authenticate(container, other_raw)).id == other.id
    with pytest.raises(NotAuthenticated):
        await authenticate(container, acme_raw)


async def test_the_superuser_may_rotate_any_organization_key(container: AsyncContainer, acme: Tenant) -> None:
    root = await add_superuser(container)
    raw, credential = await call(container, RotateApiKey, lambda uc: uc(root, acme.id))
    assert credential.organization_id == acme.id
    assert (await authenticate(container, raw)).id == acme.id


@pytest.mark.parametrize("raw", ["", "not-a-key", "klm_", "klm_unknown-key-of-nobody", "KLM_x"])
async def test_a_wrong_key_is_not_authenticated(container: AsyncContainer, acme: Tenant, raw: str) -> None:
    await rotate(container, acme)
    with pytest.raises(NotAuthenticated):
        await authenticate(container, raw)


async def test_a_key_with_the_prefix_missing_is_refused(container: AsyncContainer, acme: Tenant) -> None:
    raw, _ = await rotate(container, acme)
    with pytest.raises(NotAuthenticated):
        await authenticate(container, raw.removeprefix("klm_"))


@pytest.mark.parametrize("status", [OrganizationStatus.SUSPENDED, OrganizationStatus.PENDING])
async def test_the_key_of_an_organization_that_is_not_active_is_refused(
    container: AsyncContainer, acme: Tenant, status: OrganizationStatus
) -> None:
    raw, _ = await rotate(container, acme)
    store = await container.get(MemoryStore)
    store.organizations[acme.id].status = status
    store.commit()
    with pytest.raises(NotAuthenticated):
        await authenticate(container, raw)
    store.organizations[acme.id].status = OrganizationStatus.ACTIVE
    store.commit()
    assert (await authenticate(container, raw)).id == acme.id


async def test_the_key_of_a_deleted_organization_is_refused(container: AsyncContainer, acme: Tenant) -> None:
    raw, _ = await rotate(container, acme)
    store = await container.get(MemoryStore)
    del store.organizations[acme.id]
    store.commit()
    with pytest.raises(NotAuthenticated):
        await authenticate(container, raw)


async def test_last_used_is_written_at_most_once_a_minute(container: AsyncContainer, acme: Tenant) -> None:
    clock = await container.get(FixedClock)
    raw, credential = await rotate(container, acme)
    first_use = clock.now()
    await authenticate(container, raw)
    assert (await stored(container))[credential.id].last_used_at == first_use
    clock.advance(timedelta(seconds=LAST_USED_EVERY_S - 1))
    await authenticate(container, raw)
    assert (await stored(container))[credential.id].last_used_at == first_use, "within the minute: no write"
    clock.advance(timedelta(seconds=1))
    await authenticate(container, raw)
    assert (await stored(container))[credential.id].last_used_at == clock.now()
    status = await call(container, GetCredentialStatus, lambda uc: uc(acme.as_owner, acme.id))
    assert status.last_used_at == clock.now()


async def test_an_unknown_organization_is_not_found_even_for_the_superuser(container: AsyncContainer) -> None:
    """Before: the status said "no key" and rotation wrote a key for no organization (PostgreSQL's
    foreign key then turned it into a 409 conflict)."""
    root = await add_superuser(container)
    missing = new_id()
    with pytest.raises(NotFound):
        await call(container, GetCredentialStatus, lambda uc: uc(root, missing))
    with pytest.raises(NotFound):
        await call(container, RotateApiKey, lambda uc: uc(root, missing))
    assert await stored(container) == {}
