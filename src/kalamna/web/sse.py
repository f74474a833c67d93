"""Server-sent event streams of conversation events (the customer's and the staff console's)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import msgspec

from kalamna.application.conversations.replies import RepliesInFlight
from kalamna.ports.conversations import EventSubscription

POLL_S = 0.5  # how soon a stream notices shutdown
_closing: set[asyncio.Future[None]] = set()  # strong references until each close finishes
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(event: str, data: object) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + msgspec.json.encode(data) + b"\n\n"


async def event_stream(
    subscription: EventSubscription,
    in_flight: RepliesInFlight,
    keepalive_s: float,
    *,
    last: tuple[str, ...] = (),
) -> AsyncIterator[bytes]:
    """Relay events as they come, a comment line at least every ``keepalive_s``; ends after an
    event named in ``last``, at shutdown, or (by cancellation) when the client goes away."""
    try:
        yield b": connected\n\n"
        quiet_since = time.monotonic()
        while not in_flight.draining.is_set():
            event = await subscription.next(POLL_S)
            if event is None:
                if time.monotonic() - quiet_since >= keepalive_s:
                    yield b": keep-alive\n\n"
                    quiet_since = time.monotonic()
                continue
            yield sse(event.name, event.data)
            quiet_since = time.monotonic()
            if event.name in last:
                return
    finally:
        # The client left: this generator is being cancelled, and every await here would be cancelled
        # again. Let the closing run on its own.
        closing = asyncio.ensure_future(subscription.close())
        _closing.add(closing)
        closing.add_done_callback(_closing.discard)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(closing)
