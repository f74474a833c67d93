"""The job path end to end: enqueue through the JobQueue port on real Redis, run the SAQ worker
in-process, observe the effect (an .eml file written by the outbox mailer). The queue's contract,
shared with the in-memory queue, is in ``tests/integration/contracts``."""

from __future__ import annotations

import asyncio
import email
from email import policy

from kalamna.application.mail import QueueMail
from kalamna.di import make_container
from kalamna.domain.mail import EmailMessage
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
