"""The widget gate (one Redis script / in memory): generations, budgets and the ``last_used_at``
throttle follow the same rules in both."""

from __future__ import annotations

from dishka import AsyncContainer

from kalamna.domain.ids import new_id
from kalamna.ports.widget import Budget, WidgetGate


async def test_a_generation_is_stable_until_a_change_replaces_it(container: AsyncContainer) -> None:
    gate = await container.get(WidgetGate)
    org, other = new_id(), new_id()
    first = await gate.generation(org)
    assert first and await gate.generation(org) == first
    assert (await gate.enter(org, [], f"contract:{new_id()}", 60)).generation == first
    await gate.changed(org)
    changed = await gate.generation(org)
    assert changed != first and (await gate.enter(org, [], f"contract:{new_id()}", 60)).generation == changed
    assert await gate.generation(other) not in (first, changed), "each organization has its own"


async def test_budgets_are_counted_in_order_and_counting_stops_at_the_first_refused(
    container: AsyncContainer,
) -> None:
    gate = await container.get(WidgetGate)
    org = new_id()
    client = Budget(f"contract:client:{new_id()}", limit=2, window_s=60)
    key = Budget(f"contract:key:{new_id()}", limit=10, window_s=60)
    first = await gate.enter(org, [client, key], f"contract:{new_id()}", 60)
    assert [(d.allowed, d.remaining, d.limit) for d in first.decisions] == [(True, 1, 2), (True, 9, 10)]
    await gate.enter(org, [client, key], f"contract:{new_id()}", 60)
    refused = await gate.enter(org, [client, key], f"contract:{new_id()}", 60)
    assert [(d.allowed, d.remaining) for d in refused.decisions] == [(False, 0)]  # key budget untouched
    assert all(1 <= d.reset_after_s <= 60 for d in refused.decisions)
    again = await gate.enter(org, [key], f"contract:{new_id()}", 60)
    assert [(d.allowed, d.remaining) for d in again.decisions] == [(True, 7)]  # 2 counted before, + this one


async def test_the_last_used_throttle_lets_one_request_in_per_window(container: AsyncContainer) -> None:
    gate = await container.get(WidgetGate)
    org, throttle = new_id(), f"contract:{new_id()}"
    assert (await gate.enter(org, [], throttle, 60)).first_use is True
    assert (await gate.enter(org, [], throttle, 60)).first_use is False
    assert (await gate.enter(org, [], f"contract:{new_id()}", 60)).first_use is True
