"""Transactions for the in-memory stores: what was not committed can be rolled back.

A store's tables go back to their state at the last commit on ``rollback``, as a database session's
do. There is one transaction per store at a time (like SQLite without WAL): enough for unit tests,
which run their units of work one after another.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from kalamna.adapters.after_commit import AfterCommit


@dataclass
class Transactional:
    """Base of the in-memory stores: every dataclass field is a table, except what
    lives outside the database in production (``outside_transactions``)."""

    outside_transactions: ClassVar[tuple[str, ...]] = ()
    _committed: dict[str, Any] = field(default_factory=dict, init=False, repr=False, kw_only=True)

    def __post_init__(self) -> None:
        self.commit()

    def _tables(self) -> list[str]:
        skipped = ("_committed", *self.outside_transactions)
        return [f.name for f in fields(self) if f.name not in skipped]

    def commit(self) -> None:
        self._committed = {name: copy.deepcopy(getattr(self, name)) for name in self._tables()}

    def rollback(self) -> None:
        for name, table in self._committed.items():
            setattr(self, name, copy.deepcopy(table))


class MemoryUnitOfWork:
    """Commits or rolls back every store it was given together."""

    def __init__(self, *stores: Transactional) -> None:
        self._stores = stores
        self._after_commit = AfterCommit()

    async def commit(self) -> None:
        for store in self._stores:
            store.commit()
        await self._after_commit.run()

    async def rollback(self) -> None:
        self._after_commit.drop()
        for store in self._stores:
            store.rollback()

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.add(action)
