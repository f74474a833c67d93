from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class QueuedJob:
    task: str
    key: str | None
    kwargs: dict[str, Any]


@dataclass
class MemoryJobQueue:
    """Records jobs in order; a second job with the same pending key is dropped, as in SAQ."""

    jobs: list[QueuedJob] = field(default_factory=list)

    async def enqueue(self, task: str, *, key: str | None = None, **kwargs: Any) -> bool:
        if key is not None and any(job.key == key for job in self.jobs):
            return False
        self.jobs.append(QueuedJob(task=task, key=key, kwargs=kwargs))
        return True

    def take(self) -> list[QueuedJob]:
        jobs, self.jobs = self.jobs, []
        return jobs
