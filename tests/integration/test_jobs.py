"""The job path end to end: enqueue through the JobQueue port on real Redis, run the SAQ worker
in-process, observe the effect (an .eml file written by the outbox mailer). The queue's contract,
shared with the in-memory queue, is in ``tests/integration/contracts``."""

from __future__ import annotations

import asyncio
import email
from email import policy

import pytest
from saq.job import Status
from saq.utils import now

from kalamna.adapters.queue.saq_queue import PatientSweepQueue, make_queue
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


async def test_a_sweep_spares_a_job_being_taken_and_sweeps_a_lost_one(
    services, clean_state, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A worker takes a job in two steps (BLMOVE to the active list, then saved as active). SAQ's own
    sweep aborted a job caught between them; a job left there by a dead worker is still swept."""
    monkeypatch.setattr(PatientSweepQueue, "TAKE_GRACE_S", 0.5)
    queue = make_queue(services.redis_url, "sweep-test")
    try:
        taken = await queue.enqueue("noop", key="taken", retries=1)
        lost = await queue.enqueue("noop", key="lost", retries=1)
        assert taken is not None and lost is not None
        for _ in range(2):  # both moved to the active list as BLMOVE does; neither saved as active yet
            await queue.redis.lmove(queue.namespace("queued"), queue.namespace("active"), "LEFT", "RIGHT")

        async def take() -> None:  # the worker's second step, a moment later (as saq.Worker.process)
            await asyncio.sleep(0.1)
            taken.started = now()
            taken.attempts += 1
            await taken.update(status=Status.ACTIVE)

        swept, _ = await asyncio.gather(queue.sweep(abort=0.1), take())
        assert swept == [lost.id]
        taken_now, lost_now = await queue.job("taken"), await queue.job("lost")
        assert taken_now is not None and taken_now.status is Status.ACTIVE
        # Swept and queued again: it never got its attempt.
        assert lost_now is not None and (lost_now.status, lost_now.error) == (Status.QUEUED, "swept")
    finally:
        await queue.disconnect()
