"""Dishka wiring of the widget's hot path: the one-query credential lookup, the one-round-trip gate
and the per-process access cache."""

from __future__ import annotations

from dishka import Provider, Scope, provide

from kalamna.adapters.cache.widget_gate import RedisWidgetGate
from kalamna.adapters.postgres.repositories.widget import SqlaWidgetDirectory
from kalamna.application.chat.sessions import WidgetAccessCache
from kalamna.application.webhooks import SubscriptionCache
from kalamna.ports.widget import WidgetDirectory, WidgetGate


class WidgetProvider(Provider):
    directory = provide(SqlaWidgetDirectory, provides=WidgetDirectory, scope=Scope.REQUEST)
    gate = provide(RedisWidgetGate, provides=WidgetGate, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def cache(self) -> WidgetAccessCache:
        return WidgetAccessCache()

    @provide(scope=Scope.APP)
    def subscriptions(self, gate: WidgetGate) -> SubscriptionCache:
        return SubscriptionCache(gate)
