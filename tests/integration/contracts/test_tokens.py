"""One-time tokens and refresh sessions."""

from __future__ import annotations

from datetime import timedelta

from dishka import AsyncContainer

from kalamna.domain.identity import Employee
from kalamna.domain.ids import new_id
from kalamna.domain.tokens import OneTimeToken, RefreshSession, TokenPurpose
from kalamna.ports.repositories import OneTimeTokenRepository, RefreshSessionRepository, UnitOfWork
from tests.integration.contracts.conftest import NOW, employee, in_scope, organization, read, seed

HOUR = timedelta(hours=1)


async def owner(container: AsyncContainer) -> Employee:
    acme = organization()
    ann = employee(acme, "ann@acme.test")
    await seed(container, (acme, [ann]))
    return ann


async def test_a_token_is_found_by_digest_and_purpose_and_consumed_once(container: AsyncContainer) -> None:
    ann = await owner(container)
    token = OneTimeToken(new_id(), TokenPurpose.RESET_PASSWORD, "d1", NOW + HOUR, NOW, ann.id)
    await in_scope(container, OneTimeTokenRepository, lambda r: r.add(token))
    assert (
        await read(container, OneTimeTokenRepository, lambda r: r.find("d1", TokenPurpose.RESET_PASSWORD))
        == token
    )
    assert (
        await read(container, OneTimeTokenRepository, lambda r: r.find("d1", TokenPurpose.VERIFY_EMAIL))
        is None
    )
    assert await in_scope(container, OneTimeTokenRepository, lambda r: r.consume(token.id, NOW)) is True
    assert await in_scope(container, OneTimeTokenRepository, lambda r: r.consume(token.id, NOW)) is False
    used = await read(container, OneTimeTokenRepository, lambda r: r.find("d1", TokenPurpose.RESET_PASSWORD))
    assert used.used_at == NOW


async def test_a_consumption_that_is_not_committed_does_not_count(container: AsyncContainer) -> None:
    ann = await owner(container)
    token = OneTimeToken(new_id(), TokenPurpose.VERIFY_EMAIL, "d0", NOW + HOUR, NOW, ann.id)
    await in_scope(container, OneTimeTokenRepository, lambda r: r.add(token))
    assert await read(container, OneTimeTokenRepository, lambda r: r.consume(token.id, NOW)) is True
    assert await in_scope(container, OneTimeTokenRepository, lambda r: r.consume(token.id, NOW)) is True


async def test_expired_revoked_and_superseded_tokens_cannot_be_consumed(container: AsyncContainer) -> None:
    ann = await owner(container)
    expired = OneTimeToken(new_id(), TokenPurpose.VERIFY_EMAIL, "d2", NOW, NOW - HOUR, ann.id)
    older = OneTimeToken(new_id(), TokenPurpose.RESET_PASSWORD, "d3", NOW + HOUR, NOW, ann.id)
    other_purpose = OneTimeToken(new_id(), TokenPurpose.VERIFY_EMAIL, "d4", NOW + HOUR, NOW, ann.id)
    invited = OneTimeToken(new_id(), TokenPurpose.INVITATION, "d5", NOW + HOUR, NOW, None, new_id())
    async with container() as scope:
        tokens = await scope.get(OneTimeTokenRepository)
        for token in (expired, older, other_purpose, invited):
            await tokens.add(token)
        await tokens.revoke_for_employee(ann.id, TokenPurpose.RESET_PASSWORD, NOW)
        await tokens.revoke_for_invitation(invited.invitation_id, NOW)  # type: ignore[arg-type]
        await (await scope.get(UnitOfWork)).commit()
    for token, usable in ((expired, False), (older, False), (invited, False), (other_purpose, True)):
        assert (
            await in_scope(container, OneTimeTokenRepository, lambda r, t=token: r.consume(t.id, NOW))
            is usable
        )
    revoked = await read(
        container, OneTimeTokenRepository, lambda r: r.find("d3", TokenPurpose.RESET_PASSWORD)
    )
    assert revoked.revoked_at == NOW and revoked.used_at is None


async def test_a_refresh_session_rotates_once_and_families_are_revoked_together(
    container: AsyncContainer,
) -> None:
    ann = await owner(container)
    family = new_id()
    first = RefreshSession(new_id(), family, ann.id, "r1", NOW + HOUR, NOW)
    second = RefreshSession(new_id(), family, ann.id, "r2", NOW + HOUR, NOW)
    third = RefreshSession(new_id(), family, ann.id, "r3", NOW + HOUR, NOW)
    lone = RefreshSession(new_id(), new_id(), ann.id, "r4", NOW + HOUR, NOW)
    await in_scope(container, RefreshSessionRepository, lambda r: r.add(first))
    await in_scope(container, RefreshSessionRepository, lambda r: r.add(lone))
    assert (
        await in_scope(container, RefreshSessionRepository, lambda r: r.rotate(first.id, second, NOW)) is True
    )
    assert (
        await in_scope(container, RefreshSessionRepository, lambda r: r.rotate(first.id, third, NOW)) is False
    )
    rotated = await read(container, RefreshSessionRepository, lambda r: r.find("r1"))
    assert rotated.was_rotated and rotated.replaced_by == second.id
    assert await read(container, RefreshSessionRepository, lambda r: r.find("r3")) is None
    await in_scope(container, RefreshSessionRepository, lambda r: r.revoke_family(family, NOW))
    assert not (await read(container, RefreshSessionRepository, lambda r: r.find("r2"))).is_active(NOW)
    assert (await read(container, RefreshSessionRepository, lambda r: r.find("r4"))).is_active(NOW)
    await in_scope(container, RefreshSessionRepository, lambda r: r.revoke_all_for_employee(ann.id, NOW))
    assert not (await read(container, RefreshSessionRepository, lambda r: r.find("r4"))).is_active(NOW)


async def test_an_expired_session_does_not_rotate_and_revoke_is_single(container: AsyncContainer) -> None:
    ann = await owner(container)
    old = RefreshSession(new_id(), new_id(), ann.id, "r5", NOW, NOW - HOUR)
    live = RefreshSession(new_id(), new_id(), ann.id, "r6", NOW + HOUR, NOW)
    await in_scope(container, RefreshSessionRepository, lambda r: r.add(old))
    await in_scope(container, RefreshSessionRepository, lambda r: r.add(live))
    successor = RefreshSession(new_id(), old.family_id, ann.id, "r7", NOW + HOUR, NOW)
    assert (
        await in_scope(container, RefreshSessionRepository, lambda r: r.rotate(old.id, successor, NOW))
        is False
    )
    await in_scope(container, RefreshSessionRepository, lambda r: r.revoke(live.id, NOW))
    assert (await read(container, RefreshSessionRepository, lambda r: r.find("r6"))).revoked_at == NOW
