"""Actions a unit of work runs once its commit succeeded (both units of work use it)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from kalamna.domain.errors import DependencyUnavailable

log = logging.getLogger("kalamna.unit_of_work")


class AfterCommit:
    """Actions waiting for the next commit: run in order after it, dropped by a rollback."""

    def __init__(self) -> None:
        self._actions: list[Callable[[], Awaitable[None]]] = []

    def add(self, action: Callable[[], Awaitable[None]]) -> None:
        self._actions.append(action)

    def drop(self) -> None:
        self._actions.clear()

    async def run(self) -> None:
        """The committed work stands whatever happens here: an action whose dependency is down (a
        job that Redis could not take) is logged and skipped, and its sweeper starts it later."""
        actions, self._actions = self._actions, []
        for action in actions:
            try:
                await action()
            except DependencyUnavailable as exc:
                log.warning("after commit: %s", exc)
