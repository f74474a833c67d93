"""The job queue (SAQ on Redis / recorded in memory) and the revocation store (Redis / memory)."""

from __future__ import annotations

import time
from uuid import UUID

from dishka import AsyncContainer

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.domain.ids import new_id
from kalamna.ports.jobs import DELIVER_EMAIL, JobQueue
from kalamna.ports.security import AccessClaims, RevocationStore


async def queued(container: AsyncContainer) -> int:
    queue = await container.get(JobQueue)
    if isinstance(queue, MemoryJobQueue):
        return len(queue.jobs)
    from saq import Queue

    return int(await (await container.get(Queue)).count("queued"))


async def test_a_job_key_is_enqueued_once(container: AsyncContainer) -> None:
    queue = await container.get(JobQueue)
    await queue.enqueue(DELIVER_EMAIL, key="mail:1", outbox_id="1")
    await queue.enqueue(DELIVER_EMAIL, key="mail:1", outbox_id="1")
    await queue.enqueue(DELIVER_EMAIL, key="mail:2", outbox_id="1")
    await queue.enqueue(DELIVER_EMAIL, outbox_id="1")  # no key: always queued
    await queue.enqueue(DELIVER_EMAIL, outbox_id="1")
    assert await queued(container) == 4


def claims(subject: UUID, organization_id: UUID | None, issued_at: float, jti: str = "") -> AccessClaims:
    return AccessClaims(subject, organization_id, "owner", jti or new_id().hex, issued_at, issued_at + 900)


async def test_revocations_by_token_subject_and_organization(container: AsyncContainer) -> None:
    store = await container.get(RevocationStore)
    now = time.time()
    ann, bob, acme = new_id(), new_id(), new_id()
    token = claims(ann, acme, now - 10, jti="jti-1")
    assert await store.is_revoked(token) is False
    await store.revoke_access_token("jti-1", now + 900)
    assert await store.is_revoked(token) is True
    assert await store.is_revoked(claims(ann, acme, now - 10)) is False

    await store.revoke_subject_before(bob, now)
    assert await store.is_revoked(claims(bob, acme, now - 1)) is True
    assert await store.is_revoked(claims(bob, acme, now + 1)) is False, "tokens issued later stay good"

    await store.revoke_organization_before(acme, now)
    assert await store.is_revoked(claims(ann, acme, now - 1)) is True
    assert await store.is_revoked(claims(ann, acme, now + 1)) is False
    assert await store.is_revoked(claims(ann, new_id(), now - 1)) is False
    assert await store.is_revoked(claims(new_id(), None, now - 1)) is False, "a superuser has no organization"
