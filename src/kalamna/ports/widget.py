"""Ports of the widget's hot path: the one-query credential lookup and the one-round-trip gate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from kalamna.domain.bot_config import BotConfig
from kalamna.domain.identity import Organization
from kalamna.ports.security import RateLimitDecision


@dataclass(frozen=True, slots=True)
class WidgetCredential:
    """What an API key stands for: the active key's id, its organization and bot config."""

    credential_id: UUID
    key_hash: str
    organization: Organization
    config: BotConfig | None


class WidgetDirectory(Protocol):
    async def lookup(self, key_hash: str) -> WidgetCredential | None:
        """The active (not revoked) key with this digest, with its organization and bot config, in
        one query; None when no active key has it."""
        ...


@dataclass(frozen=True, slots=True)
class Budget:
    """One rate-limit bucket: ``limit`` events per ``window_s``."""

    bucket: str
    limit: int
    window_s: int


@dataclass(frozen=True, slots=True)
class GateResult:
    """``generation``: the organization's current access generation (changes whenever its keys,
    status or bot config change). ``decisions``: one per budget counted, in order; counting stops at
    the first refused budget (as separate calls would). ``first_use``: this request won the
    once-per-window ``last_used_at`` throttle."""

    generation: str
    decisions: Sequence[RateLimitDecision]
    first_use: bool


class WidgetGate(Protocol):
    """Shared by every API process (Redis): fail closed (``DependencyUnavailable``) when unreadable."""

    async def enter(
        self, organization_id: UUID, budgets: Sequence[Budget], throttle_key: str, throttle_s: int
    ) -> GateResult:
        """Read the organization's generation, count the budgets and try the throttle, in one step."""
        ...

    async def generation(self, organization_id: UUID) -> str:
        """The organization's current access generation alone (read it before loading what it guards)."""
        ...

    async def changed(self, organization_id: UUID) -> None:
        """The organization's keys, status, profile, bot config or webhooks changed: every process's
        cached copy is stale from now on. Call after the change is committed."""
        ...
