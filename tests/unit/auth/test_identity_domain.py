from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kalamna.domain.errors import (
    AccountDisabled,
    EmailNotVerified,
    InvalidInput,
    InvalidToken,
    OrganizationSuspended,
)
from kalamna.domain.identity import (
    Employee,
    EmployeeStatus,
    Organization,
    OrganizationStatus,
    Role,
    normalize_email,
)
from kalamna.domain.ids import new_id
from kalamna.domain.passwords import validate_new_password
from kalamna.domain.tokens import OneTimeToken, TokenPurpose

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    "password", ["password1", "12345678", "qwertyuiop", "Password1", "abcdefgh", "zzzzzzzzzz", "short"]
)
def test_common_trivial_and_short_passwords_fail(password: str) -> None:
    with pytest.raises(InvalidInput):
        validate_new_password(password)


@pytest.mark.parametrize("password", ["correct horse battery staple", "Tr0ub4dor&3x", "كلمة سر طويلة جدا"])
def test_reasonable_passwords_pass_without_composition_rules(password: str) -> None:
    validate_new_password(password)


def test_length_bounds() -> None:
    long_enough = ("abc123xyz" * 15)[:128]
    validate_new_password(long_enough)
    with pytest.raises(InvalidInput):
        validate_new_password(long_enough + "q")


def test_email_normalisation() -> None:
    assert normalize_email("  Ann@Example.COM ") == "ann@example.com"
    for bad in ("ann", "ann@", "@x.com", "a b@x.com", "a@x"):
        with pytest.raises(InvalidInput):
            normalize_email(bad)


def _employee(status: EmployeeStatus, role: Role = Role.OWNER) -> Employee:
    return Employee(new_id(), new_id(), "a@b.test", "A", role, status, "h", NOW, NOW)


def _org(status: OrganizationStatus) -> Organization:
    return Organization(new_id(), "Acme", status, NOW, NOW)


def test_sign_in_rules_in_order() -> None:
    with pytest.raises(AccountDisabled):
        _employee(EmployeeStatus.DISABLED).ensure_may_sign_in(_org(OrganizationStatus.SUSPENDED))
    with pytest.raises(EmailNotVerified):
        _employee(EmployeeStatus.PENDING).ensure_may_sign_in(_org(OrganizationStatus.PENDING))
    with pytest.raises(OrganizationSuspended):
        _employee(EmployeeStatus.ACTIVE).ensure_may_sign_in(_org(OrganizationStatus.SUSPENDED))
    _employee(EmployeeStatus.ACTIVE).ensure_may_sign_in(_org(OrganizationStatus.ACTIVE))
    _employee(EmployeeStatus.ACTIVE, Role.SUPERUSER).ensure_may_sign_in(None)


def test_one_time_token_rules() -> None:
    token = OneTimeToken(uuid.uuid4(), TokenPurpose.RESET_PASSWORD, "h", NOW + timedelta(hours=1), NOW)
    token.ensure_usable(TokenPurpose.RESET_PASSWORD, NOW)
    with pytest.raises(InvalidToken):
        token.ensure_usable(TokenPurpose.VERIFY_EMAIL, NOW)  # bound to its purpose
    with pytest.raises(InvalidToken):
        token.ensure_usable(TokenPurpose.RESET_PASSWORD, NOW + timedelta(hours=1))
    token.used_at = NOW
    with pytest.raises(InvalidToken):
        token.ensure_usable(TokenPurpose.RESET_PASSWORD, NOW)


def test_ids_are_time_ordered_uuid7() -> None:
    ids = [new_id() for _ in range(200)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids, key=lambda u: u.int >> 80)
    assert len(set(ids)) == 200
