"""Webhook delivery attempts as jobs on the ``JobQueue`` port; the job carries only the delivery id."""

from __future__ import annotations

import time
from uuid import UUID

from kalamna.ports.jobs import DELIVER_WEBHOOK, JobQueue


class JobDeliveryScheduler:
    def __init__(self, jobs: JobQueue) -> None:
        self._jobs = jobs

    async def schedule(self, delivery_id: UUID, attempt: int, delay_s: float) -> None:
        options: dict[str, int] = {}
        if delay_s > 0:
            # SAQ's own option: epoch seconds before which the job is not started.
            options["scheduled"] = int(time.time() + delay_s + 0.999)
        await self._jobs.enqueue(
            DELIVER_WEBHOOK, key=f"webhook:{delivery_id}:{attempt}", delivery_id=str(delivery_id), **options
        )
