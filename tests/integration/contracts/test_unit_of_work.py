"""The unit of work: committed work stays, uncommitted work is rolled back, by ``rollback`` or by the
end of the request scope."""

from __future__ import annotations

from dishka import AsyncContainer

from kalamna.domain.errors import EmailTaken
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
