from __future__ import annotations

import uuid

import pytest

from kalamna.domain.errors import Forbidden, NotFound
from kalamna.domain.identity import Role
from kalamna.domain.policy import PERMISSIONS, Action, authorize


def test_superuser_may_everything_everywhere() -> None:
    assert PERMISSIONS[Role.SUPERUSER] == frozenset(Action)
    authorize(Role.SUPERUSER, None, uuid.uuid4(), Action.DELETE_KNOWLEDGE)


def test_owner_everything_in_own_org_but_platform() -> None:
    org = uuid.uuid4()
    for action in Action:
        if action is Action.ADMINISTER_PLATFORM:
            with pytest.raises(Forbidden):
                authorize(Role.OWNER, org, None, action)
        else:
            authorize(Role.OWNER, org, org, action)


def test_staff_reads_and_writes_knowledge_only() -> None:
    org = uuid.uuid4()
    authorize(Role.STAFF, org, org, Action.WRITE_KNOWLEDGE)
    for action in (
        Action.DELETE_KNOWLEDGE,
        Action.UPDATE_BOT_CONFIG,
        Action.MANAGE_EMPLOYEES,
        Action.MANAGE_API_CREDENTIALS,
    ):
        with pytest.raises(Forbidden):
            authorize(Role.STAFF, org, org, action)


def test_other_organization_is_not_found_not_forbidden() -> None:
    with pytest.raises(NotFound):
        authorize(Role.OWNER, uuid.uuid4(), uuid.uuid4(), Action.READ_ORGANIZATION)
    with pytest.raises(NotFound):
        authorize(Role.STAFF, uuid.uuid4(), uuid.uuid4(), Action.DELETE_KNOWLEDGE)
