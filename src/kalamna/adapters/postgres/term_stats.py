"""Which words are frequent in a tenant's chunks, so that full-text search can leave them out of its
indexed pre-filter (``TextQuery.selective_prefilter``).

Counted with PostgreSQL's ``ts_stat`` over a sample of the tenant's chunks (the first
:data:`SAMPLE_CHUNKS` in index order) and cached per process for :data:`TTL_S` seconds. Only words
found in at least :data:`KEEP_SHARE` of the sample are kept (a word missing from the map is rare), which
bounds the cache to a few hundred words per tenant. Nothing is maintained at ingestion: no migration, no
write cost, and a stale or partial estimate only changes which words select rows (speed and, at the
margin, ranking), never which tenant's rows are searched. Tenants smaller than :data:`MIN_CHUNKS` get no
statistics (every word counts as rare): scoring all their rows is cheap and this keeps small knowledge
bases ranked exactly as before.

Measured on the chat benchmark's corpus (``bench/search_fts.py``): one ``ts_stat`` over 1,000 chunks
costs ~20–40 ms, once per tenant per process per ``TTL_S``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SAMPLE_CHUNKS = 1_000
MIN_CHUNKS = 500
KEEP_SHARE = 0.02
TTL_S = 600.0


class TermShares:
    """Per-process cache: organization → {term: share of its (sampled) chunks containing the term}."""

    def __init__(self, ttl_s: float = TTL_S, max_entries: int = 2_000) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._shares: dict[UUID, tuple[float, dict[str, float]]] = {}

    async def shares(self, session: AsyncSession, organization_id: UUID) -> Mapping[str, float]:
        now = time.monotonic()
        cached = self._shares.get(organization_id)
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        org = UUID(str(organization_id))  # ts_stat takes SQL text: only a formatted UUID goes in
        where = f"WHERE organization_id = '{org}' LIMIT {int(SAMPLE_CHUNKS)}"
        sample = "SELECT search_vector FROM knowledge_chunks " + where  # noqa: S608 (a UUID and an int)
        rows = await session.execute(
            text(
                "WITH n AS (SELECT count(*) AS n FROM (SELECT 1 FROM knowledge_chunks "
                "WHERE organization_id = :org LIMIT :sample) s) "
                "SELECT word, ndoc::float / n.n AS share FROM ts_stat(:query), n "
                "WHERE n.n > 0 AND ndoc >= n.n * CAST(:keep AS float8)"
            ),
            {"org": org, "sample": SAMPLE_CHUNKS, "query": sample, "keep": KEEP_SHARE},
        )
        shares = {row.word: float(row.share) for row in rows}
        if len(self._shares) >= self._max_entries:
            self._shares.clear()
        self._shares[organization_id] = (now, shares)
        return shares

    def forget(self) -> None:
        self._shares.clear()


TERM_SHARES = TermShares()
