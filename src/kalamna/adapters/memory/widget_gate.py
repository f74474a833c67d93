"""In-memory twin of ``adapters.cache.widget_gate.RedisWidgetGate``: the same generation, budget and
throttle rules, in one process (unit tests)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from kalamna.adapters.memory.security import MemoryRateLimiter
from kalamna.adapters.memory.throttle import MemoryThrottle
from kalamna.ports.widget import Budget, GateResult


@dataclass
class MemoryWidgetGate:
    limiter: MemoryRateLimiter
    throttle: MemoryThrottle
    generations: dict[UUID, str] = field(default_factory=dict)

    async def generation(self, organization_id: UUID) -> str:
        return self.generations.setdefault(organization_id, uuid.uuid4().hex)

    async def enter(
        self, organization_id: UUID, budgets: Sequence[Budget], throttle_key: str, throttle_s: int
    ) -> GateResult:
        generation = await self.generation(organization_id)
        first_use = await self.throttle.first_in_window(throttle_key, throttle_s)
        decisions = []
        for budget in budgets:  # counting stops at the first refused budget, as in the Lua script
            decision = await self.limiter.hit(budget.bucket, limit=budget.limit, window_s=budget.window_s)
            decisions.append(decision)
            if not decision.allowed:
                break
        return GateResult(generation, decisions, first_use)

    async def changed(self, organization_id: UUID) -> None:
        self.generations[organization_id] = uuid.uuid4().hex
