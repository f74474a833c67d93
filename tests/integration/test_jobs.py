"""The job path end to end: enqueue through the JobQueue port on real Redis, run the SAQ worker
in-process, observe the effect (an .eml file written by the outbox mailer)."""

from __future__ import annotations

import asyncio
import email
from email import policy

import pytest

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.application.mail import QueueMail
from kalamna.di import make_container
from kalamna.domain.mail import EmailMessage
from kalamna.ports.jobs import JobQueue
from kalamna.ports.repositories import UnitOfWork
from kalamna.worker.runner import in_process_worker


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_enqueued_email_is_delivered_by_the_worker(settings, clean_state) -> None:  # type: ignore[no-untyped-def]
    container = make_container(settings)
    outbox = settings.data_dir / "mail"
    message = EmailMessage(
        to="owner@example.com", subject="Hello", text="Plain body", html="<p>HTML body</p>"
    )
    try:
        async with container() as scope:
            await (await scope.get(QueueMail))(message, kind="test")
            await (await scope.get(UnitOfWork)).commit()
        async with in_process_worker(settings, container):
            await wait_for(lambda: outbox.exists() and any(outbox.glob("*.eml")))
    finally:
        await container.close()
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["To"] == "owner@example.com"
    assert parsed["Subject"] == "Hello"
    assert parsed.get_body(preferencelist=("plain",)).get_content().strip() == "Plain body"
    assert "<p>HTML body</p>" in parsed.get_body(preferencelist=("html",)).get_content()


@pytest.fixture(params=["saq", "memory"])
async def job_queue(request, settings, clean_state):  # type: ignore[no-untyped-def]
    if request.param == "memory":
        yield MemoryJobQueue(), None
        return
    container = make_container(settings)
    from saq import Queue

    yield await container.get(JobQueue), await container.get(Queue)
    await container.close()


async def test_contract_same_key_is_enqueued_once(job_queue) -> None:  # type: ignore[no-untyped-def]
    queue, saq_queue = job_queue
    await queue.enqueue("deliver_email", key="mail:1", outbox_id="1")
    await queue.enqueue("deliver_email", key="mail:1", outbox_id="1")
    await queue.enqueue("deliver_email", key="mail:2", outbox_id="1")
    if saq_queue is not None:
        assert await saq_queue.count("queued") == 2
    else:
        assert len(queue.jobs) == 2
