"""Shutdown that loses no reply: on SIGTERM (or SIGINT) the process starts draining at once —
event streams end, replies in flight get ``reply_drain_s`` to finish (then they are stored as far as
they got, marked interrupted) — and the lifespan waits (bounded) for them before closing the pools."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from dishka import AsyncContainer
from litestar import Litestar

from kalamna.application.conversations.replies import RepliesInFlight

log = logging.getLogger("kalamna.lifecycle")
SAVE_MARGIN_S = 5.0  # after the cut-off: time to store the interrupted replies


def _chain(in_flight: RepliesInFlight, loop: asyncio.AbstractEventLoop) -> dict[int, Any]:
    """Run ``drain`` before the server's own handler (uvicorn's) for SIGTERM and SIGINT."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    chained: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous) or previous is signal.default_int_handler:
            continue  # no server is handling it (tests): leave it alone

        def handler(signum: int, frame: FrameType | None, previous: Callable[..., Any] = previous) -> None:
            loop.call_soon_threadsafe(in_flight.drain)
            previous(signum, frame)

        signal.signal(sig, handler)
        chained[sig] = (previous, handler)
    return chained


@asynccontextmanager
async def drain_lifespan(app: Litestar) -> AsyncIterator[None]:
    """The lifespan step that drains replies in flight before the container closes."""
    container: AsyncContainer = app.state.dishka_container
    in_flight = await container.get(RepliesInFlight)
    chained = _chain(in_flight, asyncio.get_running_loop())
    try:
        yield
    finally:
        in_flight.drain()
        left = await in_flight.wait(in_flight.grace_s + SAVE_MARGIN_S)
        if left:
            log.error("shutdown: %d replies still running were abandoned", left)
        for sig, (previous, handler) in chained.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, previous)
