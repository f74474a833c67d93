"""The unit of work: committed work stays, uncommitted work is rolled back, by ``rollback`` or by the
end of the request scope."""

from __future__ import annotations

from dishka import AsyncContainer

from kalamna.domain.errors import DependencyUnavailable, EmailTaken
from kalamna.ports.repositories import EmployeeRepository, OrganizationRepository, UnitOfWork
from tests.integration.contracts.conftest import employee, organization, read, seed


async def test_committed_work_is_seen_by_the_next_scope(container: AsyncContainer) -> None:
    acme = organization()
    await seed(container, (acme, []))
    assert (await read(container, OrganizationRepository, lambda r: r.get(acme.id))) == acme


async def test_work_not_committed_ends_with_its_scope(container: AsyncContainer) -> None:
    acme = organization()
    async with container() as scope:
        await (await scope.get(OrganizationRepository)).add(acme)
        assert await (await scope.get(OrganizationRepository)).get(acme.id) == acme  # visible inside
    assert await read(container, OrganizationRepository, lambda r: r.get(acme.id)) is None


async def test_rollback_undoes_only_what_was_not_committed(container: AsyncContainer) -> None:
    kept, dropped = organization("Kept"), organization("Dropped")
    async with container() as scope:
        organizations = await scope.get(OrganizationRepository)
        uow = await scope.get(UnitOfWork)
        await organizations.add(kept)
        await uow.commit()
        await organizations.add(dropped)
        renamed = organization("Kept")
        kept.name = "Renamed"
        await organizations.save(kept)
        await uow.rollback()
        assert await organizations.get(dropped.id) is None
        assert (await organizations.get(kept.id)).name == "Kept"  # type: ignore[union-attr]
        await organizations.add(renamed)  # the unit of work goes on after a rollback
        await uow.commit()
    found = await read(container, OrganizationRepository, lambda r: r.get(renamed.id))
    assert found == renamed


async def test_a_taken_email_rolls_the_transaction_back(container: AsyncContainer) -> None:
    acme = organization()
    await seed(container, (acme, [employee(acme, "ann@acme.test")]))
    late = organization("Late")
    async with container() as scope:
        await (await scope.get(OrganizationRepository)).add(late)
        try:
            await (await scope.get(EmployeeRepository)).add(employee(late, "ann@acme.test"))
            raise AssertionError("EmailTaken expected")
        except EmailTaken:
            pass
        await (await scope.get(UnitOfWork)).commit()
    assert await read(container, OrganizationRepository, lambda r: r.get(late.id)) is None
    assert (await read(container, OrganizationRepository, lambda r: r.get(acme.id))) == acme


async def test_after_commit_runs_once_the_work_is_visible_and_a_rollback_drops_it(
    container: AsyncContainer,
) -> None:
    acme, dropped = organization("Acme"), organization("Dropped")
    seen: list[object] = []

    async def look(organization_id: object, label: str) -> None:
        found = await read(container, OrganizationRepository, lambda r: r.get(organization_id))
        seen.append((label, found))

    async with container() as scope:
        uow = await scope.get(UnitOfWork)
        await (await scope.get(OrganizationRepository)).add(dropped)
        uow.after_commit(lambda: look(dropped.id, "dropped"))
        await uow.rollback()
        await (await scope.get(OrganizationRepository)).add(acme)
        uow.after_commit(lambda: look(acme.id, "acme"))
        assert seen == []  # nothing runs before the commit
        await uow.commit()
        assert seen == [("acme", acme)]  # run by the commit, with the row visible to another scope
        await uow.commit()
    assert seen == [("acme", acme)]  # once


async def test_a_dependency_down_after_commit_keeps_the_work(container: AsyncContainer) -> None:
    acme = organization()
    ran: list[str] = []

    async def redis_down() -> None:
        ran.append("down")
        raise DependencyUnavailable("The job queue is unavailable.")

    async def next_one() -> None:
        ran.append("next")

    async with container() as scope:
        uow = await scope.get(UnitOfWork)
        await (await scope.get(OrganizationRepository)).add(acme)
        uow.after_commit(redis_down)
        uow.after_commit(next_one)
        await uow.commit()
    assert ran == ["down", "next"]
    assert await read(container, OrganizationRepository, lambda r: r.get(acme.id)) == acme
