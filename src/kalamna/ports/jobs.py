from __future__ import annotations

from typing import Any, Protocol


class JobQueue(Protocol):
    """Queues background work. Jobs carry only JSON-safe ids and values.

    ``key`` makes enqueueing idempotent: a second job with the same key while the first is queued
    or running (or waiting for a retry) is not added again. Returns whether a job was added.
    """

    async def enqueue(self, task: str, *, key: str | None = None, **kwargs: Any) -> bool: ...
