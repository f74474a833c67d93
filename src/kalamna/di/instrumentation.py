"""Metrics: decorators that instrument the AI ports and the chat persistence, and the scrape-time gauges.

``providers()`` registers this provider LAST, after every production provider, because Dishka applies a
``@decorate`` only to the factory registered before it: placed before the provider of ``ChatModel``,
the container fails to build ("Cannot find factory for ChatModel"; ``tests/unit/test_overrides.py``).
Providers passed to ``make_container`` after it (test fakes) replace the decorated factory, so a fake
is not metered.
"""

from __future__ import annotations

from dishka import Provider, Scope, decorate, provide
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncEngine

from kalamna.adapters.metered import (
    MeteredChatModel,
    MeteredChatRepository,
    MeteredChatTransactions,
    MeteredEmbedder,
)
from kalamna.adapters.metrics_sources import HandoversWaiting, QueueDepth
from kalamna.metrics import ScrapeGauge, ScrapeGauges
from kalamna.ports.ai import ChatModel, Embedder
from kalamna.ports.chat import ChatRepository
from kalamna.ports.conversations import ChatTransactions


class MetricsProvider(Provider):
    """Instruments the AI ports and the chat repository, and lists the scrape-time gauges."""

    @decorate
    def metered_chat_model(self, model: ChatModel) -> ChatModel:
        return MeteredChatModel(model)

    @decorate
    def metered_embedder(self, embedder: Embedder) -> Embedder:
        return MeteredEmbedder(embedder)

    @decorate
    def metered_chats(self, chats: ChatRepository) -> ChatRepository:
        return MeteredChatRepository(chats)

    @decorate
    def metered_chat_transactions(self, transactions: ChatTransactions) -> ChatTransactions:
        return MeteredChatTransactions(transactions)

    @provide(scope=Scope.APP)
    def scrape_gauges(self, engine: AsyncEngine, queue: Queue) -> ScrapeGauges:
        return ScrapeGauges(
            [
                ScrapeGauge(
                    "kalamna_queue_jobs",
                    "Jobs in the queue by state (queued, active).",
                    ("state",),
                    QueueDepth(queue),
                ),
                ScrapeGauge(
                    "kalamna_handovers_waiting",
                    "Open conversations waiting for a person.",
                    (),
                    HandoversWaiting(engine),
                ),
            ]
        )
