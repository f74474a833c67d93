"""The throttle (Redis ``SET NX EX`` / in memory): one caller per key and window."""

from __future__ import annotations

import asyncio

from dishka import AsyncContainer

from kalamna.domain.ids import new_id
from kalamna.ports.security import Throttle


async def test_one_caller_per_key_and_window(container: AsyncContainer) -> None:
    throttle = await container.get(Throttle)
    key, other = f"contract:{new_id()}", f"contract:{new_id()}"
    assert await throttle.first_in_window(key, 60) is True
    assert await throttle.first_in_window(key, 60) is False
    assert await throttle.first_in_window(key, 1) is False, "a shorter window does not reopen the key"
    assert await throttle.first_in_window(other, 60) is True


async def test_concurrent_callers_let_exactly_one_in(container: AsyncContainer) -> None:
    throttle = await container.get(Throttle)
    key = f"contract:{new_id()}"
    results = await asyncio.gather(*(throttle.first_in_window(key, 60) for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]
