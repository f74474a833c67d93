"""Prometheus series (``prometheus-client``), safe for ``kalamna serve --workers N``.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``kalamna serve`` sets it for several workers) every process
writes its samples to files there and ``GET /metrics`` merges them; otherwise the process's own
registry is served. Labels are bounded: route *templates* (never raw paths), status codes, task
names, fixed kinds. Values computed at scrape time (queue depth, handovers waiting) come from
``ScrapeGauge`` callables (see ``docs/metrics.md``).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4"  # Litestar adds "; charset=utf-8"

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_MODEL_LATENCY = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)

HTTP_REQUESTS = Counter(
    "kalamna_http_requests_total",
    "HTTP requests by route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "kalamna_http_request_duration_seconds",
    "HTTP request latency by route template and status (streams: until the last byte).",
    ["method", "route", "status"],
    buckets=_LATENCY,
)
CHAT_FIRST_TOKEN = Histogram(
    "kalamna_chat_first_token_seconds",
    "Customer message received to the first reply text (retrieval + model).",
    buckets=_MODEL_LATENCY,
)
CHAT_REPLY = Histogram(
    "kalamna_chat_reply_seconds",
    "Customer message received to the whole reply, by outcome (answered, fallback, ...).",
    ["outcome"],
    buckets=_MODEL_LATENCY,
)
LLM_DURATION = Histogram(
    "kalamna_llm_request_duration_seconds", "Language model calls.", ["mode"], buckets=_MODEL_LATENCY
)
LLM_ERRORS = Counter("kalamna_llm_errors_total", "Language model calls that failed.", ["mode"])
LLM_TOKENS = Counter("kalamna_llm_tokens_total", "Tokens used by the language model.", ["kind"])
EMBEDDER_DURATION = Histogram(
    "kalamna_embedder_request_duration_seconds", "Embedding calls.", ["kind"], buckets=_MODEL_LATENCY
)
EMBEDDER_ERRORS = Counter("kalamna_embedder_errors_total", "Embedding calls that failed.", ["kind"])
JOBS = Counter(
    "kalamna_jobs_total",
    "Background job runs by task and outcome (complete, failed, retried, aborted).",
    ["task", "outcome"],
)


# An async callable giving the current value(s) of a gauge: {labels tuple: value}.
ScrapeSource = Callable[[], Awaitable[dict[tuple[str, ...], float]]]


@dataclass(frozen=True)
class ScrapeGauge:
    """A gauge computed when ``/metrics`` is scraped (from the database, Redis, ...)."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    source: ScrapeSource


class ScrapeGauges(list[ScrapeGauge]):
    """The gauges computed at scrape time (provided by ``kalamna.di.instrumentation``)."""


class _Snapshot(Collector):
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self._families


async def render(gauges: Iterable[ScrapeGauge]) -> bytes:
    """The text exposition: this process's (or every process's) series plus the scrape-time gauges.

    A gauge whose source fails is left out of this scrape (its absence is visible; no 500)."""
    families: list[GaugeMetricFamily] = []
    for gauge in gauges:
        try:
            values = await gauge.source()
        except Exception:  # noqa: S112 - a scrape never fails because one source is down
            continue
        family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=list(gauge.labels))
        for labels, value in values.items():
            family.add_metric(list(labels), value)
        families.append(family)
    scrape = CollectorRegistry()
    scrape.register(_Snapshot(families))
    if os.environ.get(MULTIPROC_ENV):
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged) + generate_latest(scrape)
    return generate_latest(REGISTRY) + generate_latest(scrape)
