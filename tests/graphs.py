"""One Dishka graph per process, a fresh ``APP`` scope per test.

Building a container makes Dishka build and validate the graph (~180 factories) and compile code for
each factory (30-50 ms of CPU), and the suite builds over a thousand. The provider list of a kind of
container does not change between tests, only the settings and the test's own objects do, so each
graph is built once per process, rooted at Dishka's skipped ``RUNTIME`` scope, and every test enters
its own ``APP`` scope under it with those values in the context: its own instances, pools, stores and
caches, closed by ``close()`` (or the app's lifespan) as a container of ``make_container`` is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from dishka import AsyncContainer, Provider, Scope, make_async_container

import kalamna.di

_GRAPHS: dict[str, AsyncContainer] = {}


def app_container(
    name: str, providers: Callable[[], Sequence[Provider]], context: dict[Any, Any]
) -> AsyncContainer:
    """A fresh ``APP`` scope with ``context`` under the process's graph ``name``, which ``providers()``
    builds the first time (with ``make_container``'s override checks). Every value a provider reads
    with ``from_context`` at ``APP`` scope (``Settings`` first) must be in ``context``."""
    if name not in _GRAPHS:
        _GRAPHS[name] = make_async_container(
            *providers(), start_scope=Scope.RUNTIME, validation_settings=kalamna.di.OVERRIDES_CHECKED
        )
    return _GRAPHS[name](context=context, lock_factory=asyncio.Lock)
