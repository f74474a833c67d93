"""SAQ ``after_process`` hook: counts each job run by task and outcome."""

from __future__ import annotations

from typing import Any

from kalamna import metrics

_OUTCOMES = {"complete": "complete", "failed": "failed", "aborted": "aborted", "queued": "retried"}


async def count_job(ctx: dict[str, Any]) -> None:
    job = ctx.get("job")
    if job is None:
        return
    status = getattr(job.status, "value", str(job.status))
    metrics.JOBS.labels(job.function, _OUTCOMES.get(status, status)).inc()
