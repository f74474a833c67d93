from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kalamna.application.auth.registration import Registration
from kalamna.domain.errors import (
    EmailNotVerified,
    EmailTaken,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    NotAuthenticated,
    TokenRevoked,
)
from kalamna.domain.identity import EmployeeStatus, OrganizationStatus
from tests.unit.auth.conftest import Kit

PASSWORD = "correct horse battery staple"


def mailed_token(kit: Kit, to: str) -> str:
    message = kit.outbox.last_to(to)
    match = re.search(r"(?:token=|/verify/)([A-Za-z0-9_\-]+)", message.text)
    assert match
    return match.group(1)


async def registered(kit: Kit, email: str = "ann@acme.test", verify: bool = True) -> None:
    await kit.register(
        Registration(organization_name="Acme", full_name="Ann", email=email, password=PASSWORD)
    )
    if verify:
        await kit.verify(mailed_token(kit, email))


async def test_registration_then_verification_activates(kit: Kit) -> None:
    org, owner = await kit.register(
        Registration(organization_name=" Acme ", full_name="Ann", email="Ann@Acme.test", password=PASSWORD)
    )
    assert (org.name, org.status, owner.status) == (
        "Acme",
        OrganizationStatus.PENDING,
        EmployeeStatus.PENDING,
    )
    assert kit.store.bot_configs[org.id].top_k == 5
    assert owner.password_hash.startswith("$argon2id$")
    token = mailed_token(kit, "ann@acme.test")
    assert token not in str(kit.store.tokens)  # only the digest is stored
    org, owner = await kit.verify(token)
    assert org.status is OrganizationStatus.ACTIVE
    assert owner.status is EmployeeStatus.ACTIVE
    with pytest.raises(InvalidToken):
        await kit.verify(token)


async def test_duplicate_and_weak_registrations(kit: Kit) -> None:
    await registered(kit)
    with pytest.raises(EmailTaken):
        await kit.register(
            Registration(organization_name="B", full_name="B", email="ANN@acme.test", password=PASSWORD)
        )
    for weak in ("password1", "12345678", "qwertyuiop", "1234567"):
        with pytest.raises(InvalidInput):
            await kit.register(
                Registration(organization_name="B", full_name="B", email="b@b.test", password=weak)
            )


async def test_verification_link_expires(kit: Kit) -> None:
    await registered(kit, verify=False)
    token = mailed_token(kit, "ann@acme.test")
    kit.clock.advance(timedelta(hours=48, seconds=1))
    with pytest.raises(InvalidToken):
        await kit.verify(token)


async def test_resend_only_mails_pending_accounts(kit: Kit) -> None:
    await registered(kit)
    before = len(kit.jobs.jobs)
    await kit.resend("ann@acme.test")  # already active
    await kit.resend("ghost@acme.test")  # unknown
    assert len(kit.jobs.jobs) == before


async def test_login_paths(kit: Kit) -> None:
    await registered(kit, email="pending@acme.test", verify=False)
    with pytest.raises(EmailNotVerified):
        await kit.login("pending@acme.test", PASSWORD, client_ip="1.2.3.4")
    await registered(kit)
    with pytest.raises(InvalidCredentials):
        await kit.login("ann@acme.test", "wrong password", client_ip="1.2.3.4")
    with pytest.raises(InvalidCredentials):
        await kit.login("nobody@acme.test", PASSWORD, client_ip="1.2.3.4")
    signed_in = await kit.login("ANN@acme.test", PASSWORD, client_ip="1.2.3.4")
    principal = await kit.authenticate(signed_in.tokens.access_token)
    assert principal.employee_id == signed_in.employee.id


async def test_unknown_email_still_spends_a_hash(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    burned: list[str] = []

    async def burn(password: str) -> None:
        burned.append(password)

    monkeypatch.setattr(kit.hasher, "burn", burn)
    with pytest.raises(InvalidCredentials):
        await kit.login("nobody@acme.test", "whatever-pass", client_ip="1.2.3.4")
    assert burned == ["whatever-pass"]


async def test_rehash_on_login_when_parameters_change(kit: Kit) -> None:
    from kalamna.adapters.security.passwords import Argon2Parameters, Argon2PasswordHasher

    await registered(kit)
    owner = next(iter(kit.store.employees.values()))
    old_hash = owner.password_hash
    stronger = Argon2PasswordHasher(Argon2Parameters(memory_kib=2048, time_cost=2, parallelism=1))
    kit.login._hasher = stronger  # type: ignore[attr-defined]
    await kit.login("ann@acme.test", PASSWORD, client_ip="1.2.3.4")
    new_hash = kit.store.employees[owner.id].password_hash
    assert new_hash != old_hash
    assert "m=2048,t=2" in new_hash


async def test_refresh_rotation_and_reuse(kit: Kit) -> None:
    await registered(kit)
    first = (await kit.login("ann@acme.test", PASSWORD, client_ip="ip")).tokens
    second = await kit.refresh(first.refresh_token)
    with pytest.raises(TokenRevoked):
        await kit.refresh(first.refresh_token)
    with pytest.raises(TokenRevoked):
        await kit.refresh(second.refresh_token)
    with pytest.raises(NotAuthenticated):
        await kit.refresh("never-issued")


async def test_refresh_expires(kit: Kit) -> None:
    await registered(kit)
    pair = (await kit.login("ann@acme.test", PASSWORD, client_ip="ip")).tokens
    kit.clock.advance(timedelta(days=7, seconds=1))
    with pytest.raises(TokenRevoked):
        await kit.refresh(pair.refresh_token)


async def test_reset_password_revokes_every_session(kit: Kit) -> None:
    await registered(kit)
    pair = (await kit.login("ann@acme.test", PASSWORD, client_ip="ip")).tokens
    await kit.forgot("ann@acme.test")
    await kit.forgot("ghost@acme.test")
    token = mailed_token(kit, "ann@acme.test")
    kit.clock.advance(timedelta(seconds=1))
    await kit.reset(token, "a new long passphrase")
    with pytest.raises(InvalidToken):
        await kit.reset(token, "a third long passphrase")
    with pytest.raises(TokenRevoked):
        await kit.refresh(pair.refresh_token)
    employee = next(iter(kit.store.employees.values()))
    assert employee.id in kit.revocations.subjects
    await kit.login("ann@acme.test", "a new long passphrase", client_ip="ip")


async def test_reset_token_expires_after_an_hour(kit: Kit) -> None:
    await registered(kit)
    await kit.forgot("ann@acme.test")
    token = mailed_token(kit, "ann@acme.test")
    kit.clock.advance(timedelta(hours=1, seconds=1))
    with pytest.raises(InvalidToken):
        await kit.reset(token, "a new long passphrase")


async def test_change_password_checks_the_current_one(kit: Kit) -> None:
    await registered(kit)
    signed_in = await kit.login("ann@acme.test", PASSWORD, client_ip="ip")
    with pytest.raises(InvalidCredentials):
        await kit.change(signed_in.employee.id, "wrong", "a new long passphrase")
    fresh = await kit.change(signed_in.employee.id, PASSWORD, "a new long passphrase")
    with pytest.raises(TokenRevoked):
        await kit.refresh(signed_in.tokens.refresh_token)
    assert (await kit.refresh(fresh.refresh_token)).access_token


async def test_password_change_refuses_a_suspended_organization(kit: Kit) -> None:
    """Issue 9 item 1: a token-issuing path checks the organization's status."""
    from kalamna.domain.errors import OrganizationSuspended

    await registered(kit)
    employee = next(iter(kit.store.employees.values()))
    organization = kit.store.organizations[employee.organization_id]  # type: ignore[index]
    organization.suspend(kit.clock.now())
    with pytest.raises(OrganizationSuspended):
        await kit.change(employee.id, PASSWORD, "a much newer passphrase")
