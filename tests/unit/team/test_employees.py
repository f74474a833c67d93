"""Employees of an organization: list, read, update and remove (``application/team.py``), resolved
from the production container with in-memory adapters. An organization keeps an active owner."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from dishka import AsyncContainer

from kalamna.adapters.memory.identity import MemoryStore
from kalamna.adapters.memory.security import FixedClock, MemoryRevocationStore
from kalamna.application.auth.principal import Principal
from kalamna.application.team import (
    EmployeeChanges,
    GetEmployee,
    ListEmployees,
    ListInvitations,
    RemoveEmployee,
    UpdateEmployee,
)
from kalamna.domain.errors import Forbidden, InvalidInput, LastOwner, NotFound
from kalamna.domain.identity import Employee, EmployeeStatus, Role
from kalamna.domain.ids import new_id
from kalamna.domain.pages import PageRequest
from kalamna.domain.tokens import RefreshSession
from tests.unit.world import Tenant, add_employee, add_superuser, call, principal


async def signed_in(container: AsyncContainer, employee: Employee) -> RefreshSession:
    """A live refresh session of ``employee``."""
    store = await container.get(MemoryStore)
    now = (await container.get(FixedClock)).now()
    session = RefreshSession(
        new_id(), new_id(), employee.id, f"hash-{employee.id}", now + timedelta(days=30), now
    )
    store.sessions[session.id] = session
    store.commit()
    return session


async def update(
    container: AsyncContainer, by: Principal, tenant_id: UUID, employee_id: UUID, **changes: object
) -> Employee:
    return await call(  # type: ignore[no-any-return]
        container,
        UpdateEmployee,
        lambda uc: uc(by, tenant_id, employee_id, EmployeeChanges(**changes)),  # type: ignore[arg-type]
    )


async def remove(container: AsyncContainer, by: Principal, tenant_id: UUID, employee_id: UUID) -> None:
    await call(container, RemoveEmployee, lambda uc: uc(by, tenant_id, employee_id))


async def stored(container: AsyncContainer, employee_id: UUID) -> Employee | None:
    return (await container.get(MemoryStore)).employees.get(employee_id)


async def sessions_cut(container: AsyncContainer, employee: Employee) -> tuple[bool, float | None]:
    """(every refresh session revoked, the access-token cut-off of the employee)."""
    store = await container.get(MemoryStore)
    mine = [s for s in store.sessions.values() if s.employee_id == employee.id]
    revocations = await container.get(MemoryRevocationStore)
    return bool(mine) and all(s.revoked_at is not None for s in mine), revocations.subjects.get(employee.id)


# --- ListEmployees / GetEmployee ------------------------------------------------------------------


async def test_owner_and_staff_list_their_colleagues_filtered_and_paged(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    clock = await container.get(FixedClock)
    clock.advance(timedelta(minutes=1))
    disabled = await add_employee(
        container, acme.organization, "gone@acme.test", status=EmployeeStatus.DISABLED
    )
    clock.advance(timedelta(minutes=1))
    second_owner = await add_employee(container, acme.organization, "boss2@acme.test", Role.OWNER)

    async def emails(
        role: Role | None = None,
        status: EmployeeStatus | None = None,
        page: PageRequest = PageRequest(),
        by: Principal = acme.as_owner,
    ) -> tuple[list[str], int]:
        found = await call(
            container, ListEmployees, lambda uc: uc(by, acme.id, role=role, status=status, page=page)
        )
        assert (found.limit, found.offset) == (page.limit, page.offset)
        return [e.email for e in found.items], found.total

    everyone = [acme.owner.email, acme.staff.email, disabled.email, second_owner.email]
    assert await emails() == (everyone, 4)
    assert await emails(by=acme.as_staff) == (everyone, 4)
    assert await emails(role=Role.OWNER) == ([acme.owner.email, second_owner.email], 2)
    assert await emails(status=EmployeeStatus.DISABLED) == ([disabled.email], 1)
    assert await emails(role=Role.STAFF, status=EmployeeStatus.ACTIVE) == ([acme.staff.email], 1)
    assert await emails(page=PageRequest(2, 1)) == (everyone[1:3], 4)
    assert await emails(page=PageRequest(2, 4)) == ([], 4)


async def test_a_colleague_is_read_by_id_within_the_organization_only(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    for who in (acme.as_owner, acme.as_staff):
        assert (
            await call(container, GetEmployee, lambda uc, w=who: uc(w, acme.id, acme.staff.id)) == acme.staff
        )
    with pytest.raises(NotFound):  # another organization's employee, asked through one's own organization
        await call(container, GetEmployee, lambda uc: uc(acme.as_owner, acme.id, other.staff.id))
    with pytest.raises(NotFound):
        await call(container, GetEmployee, lambda uc: uc(acme.as_owner, other.id, other.staff.id))
    with pytest.raises(NotFound):
        await call(container, GetEmployee, lambda uc: uc(acme.as_owner, acme.id, new_id()))
    with pytest.raises(NotFound):
        await call(
            container,
            ListEmployees,
            lambda uc: uc(acme.as_staff, other.id, role=None, status=None, page=PageRequest()),
        )


async def test_the_superuser_reads_any_organization_s_employees(
    container: AsyncContainer, acme: Tenant
) -> None:
    root = await add_superuser(container)
    found = await call(
        container, ListEmployees, lambda uc: uc(root, acme.id, role=None, status=None, page=PageRequest())
    )
    assert [e.id for e in found.items] == [acme.owner.id, acme.staff.id]
    assert await call(container, GetEmployee, lambda uc: uc(root, acme.id, acme.owner.id)) == acme.owner


async def test_the_employees_of_an_unknown_organization_are_not_found_even_for_the_superuser(
    container: AsyncContainer,
) -> None:
    root = await add_superuser(container)
    with pytest.raises(NotFound):
        await call(
            container,
            ListEmployees,
            lambda uc: uc(root, new_id(), role=None, status=None, page=PageRequest()),
        )
    with pytest.raises(NotFound):
        await call(container, ListInvitations, lambda uc: uc(root, new_id(), None, PageRequest()))


# --- UpdateEmployee -------------------------------------------------------------------------------


async def test_renaming_stores_the_trimmed_name_and_keeps_sessions(
    container: AsyncContainer, acme: Tenant
) -> None:
    clock = await container.get(FixedClock)
    await signed_in(container, acme.staff)
    clock.advance(timedelta(minutes=1))
    renamed = await update(container, acme.as_owner, acme.id, acme.staff.id, full_name="  Sara Adel ")
    assert (renamed.full_name, renamed.role, renamed.status, renamed.updated_at) == (
        "Sara Adel",
        Role.STAFF,
        EmployeeStatus.ACTIVE,
        clock.now(),
    )
    assert await stored(container, acme.staff.id) == renamed
    assert await sessions_cut(container, acme.staff) == (False, None)


async def test_a_role_change_cuts_the_sessions_that_carry_the_old_role(
    container: AsyncContainer, acme: Tenant
) -> None:
    clock = await container.get(FixedClock)
    await signed_in(container, acme.staff)
    clock.advance(timedelta(minutes=1))
    promoted = await update(container, acme.as_owner, acme.id, acme.staff.id, role=Role.OWNER)
    assert (await stored(container, acme.staff.id)) == promoted
    assert promoted.role is Role.OWNER
    assert await sessions_cut(container, acme.staff) == (True, clock.now().timestamp())


async def test_disabling_cuts_every_session_and_enabling_again_does_not(
    container: AsyncContainer, acme: Tenant
) -> None:
    clock = await container.get(FixedClock)
    await signed_in(container, acme.staff)
    disabled = await update(container, acme.as_owner, acme.id, acme.staff.id, status=EmployeeStatus.DISABLED)
    assert disabled.status is EmployeeStatus.DISABLED
    cut = clock.now().timestamp()
    assert await sessions_cut(container, acme.staff) == (True, cut)
    clock.advance(timedelta(minutes=1))
    enabled = await update(container, acme.as_owner, acme.id, acme.staff.id, status=EmployeeStatus.ACTIVE)
    assert (enabled.status, (await container.get(MemoryRevocationStore)).subjects) == (
        EmployeeStatus.ACTIVE,
        {acme.staff.id: cut},
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"role": Role.STAFF},
        {"status": EmployeeStatus.DISABLED},
        {"role": Role.STAFF, "status": EmployeeStatus.DISABLED},
    ],
)
async def test_the_last_active_owner_can_be_neither_demoted_nor_disabled(
    container: AsyncContainer, acme: Tenant, changes: dict[str, object]
) -> None:
    # A second owner who is disabled does not count.
    await add_employee(
        container, acme.organization, "old@acme.test", Role.OWNER, status=EmployeeStatus.DISABLED
    )
    await signed_in(container, acme.owner)
    with pytest.raises(LastOwner):
        await update(container, acme.as_owner, acme.id, acme.owner.id, full_name="Renamed", **changes)
    assert await stored(container, acme.owner.id) == acme.owner
    assert await sessions_cut(container, acme.owner) == (False, None)


async def test_with_a_second_active_owner_the_first_may_step_down(
    container: AsyncContainer, acme: Tenant
) -> None:
    second = await add_employee(container, acme.organization, "boss2@acme.test", Role.OWNER)
    demoted = await update(container, acme.as_owner, acme.id, acme.owner.id, role=Role.STAFF)
    assert demoted.role is Role.STAFF
    with pytest.raises(LastOwner):
        await update(container, principal(second), acme.id, second.id, status=EmployeeStatus.DISABLED)


async def test_the_last_owner_may_still_be_renamed_and_set_active(
    container: AsyncContainer, acme: Tenant
) -> None:
    kept = await update(
        container,
        acme.as_owner,
        acme.id,
        acme.owner.id,
        full_name="Boss",
        role=Role.OWNER,
        status=EmployeeStatus.ACTIVE,
    )
    assert (kept.full_name, kept.role, kept.status) == ("Boss", Role.OWNER, EmployeeStatus.ACTIVE)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"role": Role.SUPERUSER}, "role"),
        ({"status": EmployeeStatus.PENDING}, "status"),
        ({"full_name": "   "}, "full_name"),
    ],
)
async def test_invalid_changes_name_their_field_and_change_nothing(
    container: AsyncContainer, acme: Tenant, changes: dict[str, object], key: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await update(container, acme.as_owner, acme.id, acme.staff.id, **changes)
    assert raised.value.extra == {"fields": [{"key": key}]}
    assert await stored(container, acme.staff.id) == acme.staff


async def test_only_owners_of_the_organization_change_employees(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    with pytest.raises(Forbidden):
        await update(
            container, acme.as_staff, acme.id, acme.staff.id, full_name="Self-promoted", role=Role.OWNER
        )
    with pytest.raises(NotFound):
        await update(container, acme.as_owner, acme.id, other.staff.id, status=EmployeeStatus.DISABLED)
    with pytest.raises(NotFound):
        await update(container, acme.as_owner, other.id, other.staff.id, status=EmployeeStatus.DISABLED)
    assert (await stored(container, acme.staff.id), await stored(container, other.staff.id)) == (
        acme.staff,
        other.staff,
    )


# --- RemoveEmployee -------------------------------------------------------------------------------


async def test_a_removed_employee_is_gone_with_their_sessions(
    container: AsyncContainer, acme: Tenant
) -> None:
    clock = await container.get(FixedClock)
    await signed_in(container, acme.staff)
    await remove(container, acme.as_owner, acme.id, acme.staff.id)
    store = await container.get(MemoryStore)
    assert (acme.staff.id in store.employees, [s.employee_id for s in store.sessions.values()]) == (False, [])
    assert (await container.get(MemoryRevocationStore)).subjects == {acme.staff.id: clock.now().timestamp()}
    with pytest.raises(NotFound):
        await call(container, GetEmployee, lambda uc: uc(acme.as_owner, acme.id, acme.staff.id))
    with pytest.raises(NotFound):
        await remove(container, acme.as_owner, acme.id, acme.staff.id)


async def test_the_last_active_owner_cannot_be_removed(container: AsyncContainer, acme: Tenant) -> None:
    disabled_owner = await add_employee(
        container, acme.organization, "old@acme.test", Role.OWNER, status=EmployeeStatus.DISABLED
    )
    with pytest.raises(LastOwner):
        await remove(container, acme.as_owner, acme.id, acme.owner.id)
    assert await stored(container, acme.owner.id) == acme.owner
    assert (await container.get(MemoryRevocationStore)).subjects == {}
    await remove(container, acme.as_owner, acme.id, disabled_owner.id)  # not active: may go
    assert await stored(container, disabled_owner.id) is None


async def test_an_owner_may_leave_when_another_owner_stays(container: AsyncContainer, acme: Tenant) -> None:
    second = await add_employee(container, acme.organization, "boss2@acme.test", Role.OWNER)
    await remove(container, acme.as_owner, acme.id, acme.owner.id)
    assert await stored(container, acme.owner.id) is None
    with pytest.raises(LastOwner):
        await remove(container, principal(second), acme.id, second.id)


async def test_only_owners_of_the_organization_remove_employees(
    container: AsyncContainer, acme: Tenant, other: Tenant
) -> None:
    with pytest.raises(Forbidden):
        await remove(container, acme.as_staff, acme.id, acme.owner.id)
    with pytest.raises(NotFound):
        await remove(container, acme.as_owner, acme.id, other.staff.id)
    with pytest.raises(NotFound):
        await remove(container, acme.as_owner, other.id, other.staff.id)
    store = await container.get(MemoryStore)
    assert {acme.owner.id, other.staff.id} <= set(store.employees)
