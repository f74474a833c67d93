"""QueueMail stores the mail in the caller's transaction and queues its delivery only after the commit:
a delivery job that started before would find no row."""

from __future__ import annotations

from dishka import AsyncContainer

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.adapters.memory.mail import MemoryMailOutbox
from kalamna.application.mail import QueueMail
from kalamna.domain.mail import EmailMessage
from kalamna.ports.jobs import DELIVER_EMAIL
from kalamna.ports.repositories import UnitOfWork

MESSAGE = EmailMessage(to="ann@acme.test", subject="Reset", text="Hi", html="<p>Hi</p>")


async def delivery_jobs(container: AsyncContainer) -> list[str]:
    jobs = await container.get(MemoryJobQueue)
    return [job.kwargs["outbox_id"] for job in jobs.jobs if job.task == DELIVER_EMAIL]


async def test_the_delivery_is_queued_by_the_commit(container: AsyncContainer) -> None:
    async with container() as scope:
        mail_id = await (await scope.get(QueueMail))(MESSAGE, kind="reset_password")
        assert await delivery_jobs(container) == []
        await (await scope.get(UnitOfWork)).commit()
        assert await delivery_jobs(container) == [str(mail_id)]
    assert list((await container.get(MemoryMailOutbox)).messages) == [mail_id]


async def test_a_rolled_back_mail_gets_no_delivery(container: AsyncContainer) -> None:
    async with container() as scope:
        await (await scope.get(QueueMail))(MESSAGE, kind="reset_password")
        uow = await scope.get(UnitOfWork)
        await uow.rollback()
        await uow.commit()
    assert await delivery_jobs(container) == []
    assert (await container.get(MemoryMailOutbox)).messages == {}
