"""Issue 9 item 5 and issue 16 item 3: mail through the transactional outbox, each mail sent once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from uuid import UUID

import pytest
from dishka import Provider, Scope
from redis.asyncio import Redis
from saq import Job, Queue

from kalamna.application.mail import DeliverMail, QueueMail
from kalamna.di import make_container
from kalamna.domain.mail import EmailMessage
from kalamna.observability import JobArgumentsFilter
from kalamna.ports.mail import Mailer
from kalamna.ports.repositories import UnitOfWork
from kalamna.worker.runner import in_process_worker

pytestmark = pytest.mark.usefixtures("clean_state")
TOKEN = "raw-one-time-token-abcdefghijklmnopqrstuvwxyz0123456789"


class CountingMailer:
    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[str] = []
        self.delay = delay

    async def send(self, message: EmailMessage) -> None:
        await asyncio.sleep(self.delay)
        self.sent.append(message.to)


def mailer_provider(mailer: CountingMailer) -> Provider:
    provider = Provider(scope=Scope.APP)
    provider.provide(lambda: mailer, provides=Mailer, override=True)
    return provider


def message(to: str) -> EmailMessage:
    link = f"https://app.example/reset-password?token={TOKEN}"
    return EmailMessage(to=to, subject="Reset", text=f"Hi\n\n{link}", html=f'<a href="{link}">x</a>')


@pytest.fixture
async def mailer() -> AsyncIterator[CountingMailer]:
    yield CountingMailer()


async def _queue(container, to: str) -> UUID:  # type: ignore[no-untyped-def]
    async with container() as scope:
        mail_id = await (await scope.get(QueueMail))(message(to), kind="reset_password")
        await (await scope.get(UnitOfWork)).commit()
    return mail_id


async def test_the_raw_token_is_neither_in_redis_nor_readable_in_the_database(settings) -> None:  # type: ignore[no-untyped-def]
    import asyncpg

    container = make_container(settings)
    try:
        mail_id = await _queue(container, "a@x.test")
    finally:
        await container.close()
    redis = Redis.from_url(settings.redis_url)
    try:
        for key in await redis.keys("*"):
            kind = (await redis.type(key)).decode()
            if kind == "string":
                assert TOKEN.encode() not in (await redis.get(key) or b"")
        job_keys = list(await redis.keys("saq:job:*"))
        assert job_keys, "the delivery job is queued"
        payload = await redis.get(job_keys[0])
        assert str(mail_id).encode() in payload
        assert b"a@x.test" not in payload  # not even the address
    finally:
        await redis.aclose()
    conn = await asyncpg.connect(settings.database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        sealed = await conn.fetchval("SELECT sealed FROM mail_outbox WHERE id = $1", mail_id)
    finally:
        await conn.close()
    assert sealed and TOKEN.encode() not in sealed and b"a@x.test" not in sealed


async def test_a_worker_started_with_mails_waiting_sends_each_once(settings, mailer) -> None:  # type: ignore[no-untyped-def]
    container = make_container(settings, mailer_provider(mailer))
    try:
        for i in range(4):
            await _queue(container, f"queued{i}@x.test")
        # Two more whose jobs were lost (as after a Redis restart): the outbox still has them.
        lost = [await _queue(container, f"lost{i}@x.test") for i in range(2)]
        queue = await container.get(Queue)
        for mail_id in lost:
            job = await queue.job(f"mail:{mail_id}")
            assert job is not None
            await queue.abort(job, "lost")
            await queue.redis.delete(job.id)  # type: ignore[attr-defined]
        async with in_process_worker(settings, container):
            for _ in range(200):
                if len(mailer.sent) >= 6:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # any duplicate would arrive by now
        # A second worker start finds nothing left to send.
        async with in_process_worker(settings, container):
            await asyncio.sleep(1.0)
    finally:
        await container.close()
    assert sorted(mailer.sent) == sorted(
        [f"queued{i}@x.test" for i in range(4)] + ["lost0@x.test", "lost1@x.test"]
    )


async def test_concurrent_deliveries_of_one_mail_send_it_once(settings) -> None:  # type: ignore[no-untyped-def]
    slow = CountingMailer(delay=0.3)
    container = make_container(settings, mailer_provider(slow))
    try:
        mail_id = await _queue(container, "once@x.test")

        async def deliver() -> bool:
            async with container() as scope:
                return await (await scope.get(DeliverMail))(mail_id)

        outcomes = await asyncio.gather(deliver(), deliver(), deliver())
        again = await deliver()
    finally:
        await container.close()
    assert slow.sent == ["once@x.test"]
    assert sorted(outcomes) == [False, False, True]
    assert again is False


async def test_a_failed_send_is_retried_and_then_sent_once(settings) -> None:  # type: ignore[no-untyped-def]
    class Flaky(CountingMailer):
        async def send(self, message: EmailMessage) -> None:
            if not self.sent and not getattr(self, "failed", False):
                self.failed = True
                raise ConnectionError("smtp down")
            await super().send(message)

    flaky = Flaky()
    container = make_container(settings, mailer_provider(flaky))
    try:
        mail_id = await _queue(container, "retry@x.test")
        async with container() as scope:
            with pytest.raises(ConnectionError):
                await (await scope.get(DeliverMail))(mail_id)
        async with container() as scope:
            assert await (await scope.get(DeliverMail))(mail_id) is True
        async with container() as scope:
            assert await (await scope.get(DeliverMail))(mail_id) is False
    finally:
        await container.close()
    assert flaky.sent == ["retry@x.test"]


def test_saq_log_lines_never_carry_job_arguments() -> None:
    job = Job(function="deliver_email", kwargs={"outbox_id": "x", "message": {"text": TOKEN}})
    for msg, arg in (("Error processing job %s", job), ("Processing %s", job.info(True))):
        record = logging.LogRecord("saq", logging.ERROR, __file__, 1, msg, (arg,), None)
        JobArgumentsFilter().filter(record)
        text = record.getMessage()
        assert TOKEN not in text and "kwargs" not in text
        assert "deliver_email" in text
