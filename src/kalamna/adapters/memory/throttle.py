"""In-memory twin of ``adapters.cache.throttle.RedisThrottle``: one caller per key and window."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class MemoryThrottle:
    """``now`` gives seconds (monotonic by default; unit tests pass their fixed clock's)."""

    now: Callable[[], float] = time.monotonic
    until: dict[str, float] = field(default_factory=dict)

    async def first_in_window(self, key: str, window_s: int) -> bool:
        now = self.now()
        if self.until.get(key, float("-inf")) > now:
            return False
        self.until[key] = now + window_s
        return True
