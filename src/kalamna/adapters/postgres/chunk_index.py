"""The chunk index in PostgreSQL: pgvector similarity and full-text rank, fused in one SQL statement.

Ranking is reciprocal rank fusion (k = 60) of the two candidate lists. The ``score`` returned for
thresholding is absolute, not rank-based, so it can be compared across queries:
``0.7 · similarity + 0.3 · keyword``, where ``similarity`` is cosine similarity rescaled so that the
model's "unrelated" level maps to 0, and ``keyword`` is the normalised full-text rank.

Tenancy is a ``WHERE organization_id = …`` inside both candidate queries. The vector query runs under
the tenant's plan (``search_strategy``): an exact scan of the tenant's rows for small tenants, HNSW with
pgvector 0.8 iterative scans above, so a small tenant inside a large index still gets its top k. The
full-text query's indexed pre-filter is built from the question's words that are rare in the tenant
(``term_stats``, ``TextQuery.selective_prefilter``) and at most ``FTS_SCORED`` of the rows it keeps are
scored.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import cast
from uuid import UUID

from pgvector.sqlalchemy import Vector
from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from kalamna.adapters.postgres.models import KnowledgeChunkRow, KnowledgeEntryRow
from kalamna.adapters.postgres.search_strategy import (
    OWN_INDEX,
    TENANT_INDEXES,
    TENANT_SIZES,
    TenantIndexes,
    TenantSizes,
    plan_for,
    tenant_index_predicate,
)
from kalamna.adapters.postgres.term_stats import MIN_CHUNKS, TERM_SHARES, TermShares
from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import IndexedChunk, KnowledgeEntry, SearchHit
from kalamna.domain.search_query import RRF_K, and_query, or_query, query_terms, text_query  # noqa: F401 (re-exported)

log = logging.getLogger("kalamna.knowledge")
CANDIDATES = 40
# At most this many of the tenant's chunks that pass the indexed full-text pre-filter are scored (the
# per-group matches and ts_rank_cd cost ~25 µs each): a bound for questions made of common words only.
FTS_SCORED = 200
# The pre-filter is built to keep about this many rows (term_stats estimates; see selective_prefilter).
FTS_TARGET = 50
EF_SEARCH = 100
# The HNSW build options of the global index and of every per-tenant one (tenant_indexes).
HNSW_OPTIONS = "m = 16, ef_construction = 64"


def vector_index_name(model: str, dimensions: int) -> str:
    return f"ix_knowledge_chunks_hnsw_{hashlib.sha1(f'{model}:{dimensions}'.encode()).hexdigest()[:12]}"  # noqa: S324


async def ensure_vector_index(engine: AsyncEngine, model: str, dimensions: int) -> None:
    """A partial HNSW index for one (model, dimension); built concurrently if missing."""
    name = vector_index_name(model, dimensions)
    literal = model.replace("'", "''")
    statement = (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON knowledge_chunks "
        f"USING hnsw ((embedding::vector({int(dimensions)})) vector_cosine_ops) "
        f"WITH ({HNSW_OPTIONS}) WHERE embedding_model = '{literal}'"
    )
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text(statement))


# (database, index) pairs this process has ensured: the first use per process checks, not each job.
_ENSURED: set[tuple[str, str]] = set()


async def ensure_vector_index_once(engine: AsyncEngine, model: str, dimensions: int) -> None:
    """``ensure_vector_index`` on first use in this process (e.g. a worker that started before
    ``kalamna migrate`` created the table). Failures are logged; search works without the index."""
    key = (engine.url.render_as_string(hide_password=True), vector_index_name(model, dimensions))
    if key in _ENSURED:
        return
    try:
        await ensure_vector_index(engine, model, dimensions)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("vector index not ensured: %s", exc)
        return
    _ENSURED.add(key)


class PgChunkIndex:
    def __init__(
        self,
        session: AsyncSession,
        dimensions: int,
        sizes: TenantSizes = TENANT_SIZES,
        terms: TermShares = TERM_SHARES,
        indexes: TenantIndexes = TENANT_INDEXES,
    ) -> None:
        self._session = session
        self._dimensions = int(dimensions)
        self._sizes = sizes
        self._terms = terms
        self._indexes = indexes

    async def replace(self, entry: KnowledgeEntry, chunks: Sequence[IndexedChunk]) -> None:
        await self._session.execute(delete(KnowledgeChunkRow).where(KnowledgeChunkRow.entry_id == entry.id))
        if chunks:
            await self._session.execute(
                insert(KnowledgeChunkRow),
                [
                    {
                        "id": new_id(),
                        "organization_id": entry.organization_id,
                        "entry_id": entry.id,
                        "position": chunk.position,
                        "content": chunk.content,
                        "token_count": chunk.token_count,
                        "search_text": chunk.search_text,
                        "created_at": entry.updated_at,
                        "updated_at": entry.updated_at,
                    }
                    for chunk in chunks
                ],
            )

    async def pending_embeddings(self, entry_id: UUID, model: str) -> list[tuple[UUID, str]]:
        engine = self._session.bind
        # CREATE INDEX CONCURRENTLY waits for open transactions: never while this session holds one.
        if isinstance(engine, AsyncEngine) and not self._session.in_transaction():
            await ensure_vector_index_once(engine, model, self._dimensions)
        rows = await self._session.execute(
            select(KnowledgeChunkRow.id, KnowledgeChunkRow.content)
            .where(
                KnowledgeChunkRow.entry_id == entry_id,
                (KnowledgeChunkRow.embedding.is_(None))
                | (KnowledgeChunkRow.embedding_model.is_distinct_from(model)),
            )
            .order_by(KnowledgeChunkRow.position)
        )
        return [(row.id, row.content) for row in rows]

    async def store_embeddings(self, model: str, vectors: dict[UUID, list[float]]) -> None:
        if not vectors:
            return
        table = cast(Table, KnowledgeChunkRow.__table__)
        await self._session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(embedding=bindparam("b_vector", type_=Vector()), embedding_model=bindparam("b_model")),
            [
                {"b_id": chunk_id, "b_vector": vector, "b_model": model}
                for chunk_id, vector in vectors.items()
            ],
        )

    async def search(
        self,
        organization_id: UUID,
        *,
        query_vector: list[float],
        query_text: str,
        model: str,
        top_k: int,
        similarity_floor: float,
    ) -> list[SearchHit]:
        d = self._dimensions
        if len(query_vector) != d:
            raise ValueError(f"query vector has {len(query_vector)} dimensions, the index {d}")
        query = text_query(query_text)
        # The vector plan for this tenant's size (search_strategy: exact scan for small tenants, HNSW
        # with iterative scan above), its transaction-local settings in one round trip. plan_cache_mode:
        # the driver prepares statements, and after five runs PostgreSQL may switch to a generic plan
        # that cannot know the tenant's size (measured: a 50k-chunk tenant then got the b-tree + exact
        # sort, ~8x slower than HNSW). Custom plans keep the choice per tenant.
        tenant_chunks = await self._sizes.count(self._session, organization_id, model)
        # A tenant with an index of its own (tenant_indexes): the WHERE as literals equal to the index
        # predicate (a bound parameter never matches a partial index), ordered by distance.
        vec_where = "c.organization_id = :org AND c.embedding_model = :model"
        if await self._indexes.has(self._session, organization_id, model, d):
            plan = OWN_INDEX
            vec_where = tenant_index_predicate(organization_id, model, alias="c")
        else:
            plan = plan_for(tenant_chunks, await self._sizes.total(self._session))
        await self._session.execute(text(plan.settings_sql()))
        params: dict[str, object] = {}
        if query is not None:
            groups = query.group_queries()
            # Full text: the indexed pre-filter uses the question's words that are rare in this
            # tenant (term_stats; small tenants: every word), then at most FTS_SCORED of the rows it
            # keeps are scored.
            if tenant_chunks >= MIN_CHUNKS:
                shares = await self._terms.shares(self._session, organization_id)
                prefilter = query.selective_prefilter(shares, budget_share=FTS_TARGET / tenant_chunks)
            else:
                prefilter = query.prefilter
            params = {
                "tsquery": query.any_of,
                "prefilter": prefilter,
                "msm": query.minimum,
                "ngroups": len(groups),
            }
            params |= {f"g{i}": g for i, g in enumerate(groups)}
            matched = " + ".join(
                f"(k.search_vector @@ to_tsquery('simple', :g{i}))::int" for i in range(len(groups))
            )
            fts = f"""fts AS (
                SELECT id, rank, matched FROM (
                    SELECT k.id, ts_rank_cd(k.search_vector, to_tsquery('simple', :tsquery), 32) AS rank,
                           ({matched}) AS matched
                    FROM (
                        SELECT c.id, c.search_vector FROM knowledge_chunks c
                        WHERE c.organization_id = :org
                          AND c.search_vector @@ to_tsquery('simple', :prefilter)
                        LIMIT {FTS_SCORED}
                    ) k
                ) m
                WHERE matched >= :msm
                ORDER BY matched DESC, rank DESC LIMIT {CANDIDATES}
            )"""
            keyword_sql = "f.matched::float / :ngroups"
        else:
            fts = "fts AS (SELECT NULL::uuid AS id, 0.0::float AS rank, 0 AS matched WHERE false)"
            keyword_sql = "0.0"
        statement = text(
            f"""
            WITH vec AS (
                SELECT c.id, 1 - ((c.embedding::vector({d})) <=> CAST(:qvec AS vector({d}))) AS sim
                FROM knowledge_chunks c
                WHERE {vec_where}
                ORDER BY {plan.order_by(f"(c.embedding::vector({d})) <=> CAST(:qvec AS vector({d}))")}
                LIMIT {CANDIDATES}
            ),
            vec_r AS (SELECT id, sim, row_number() OVER (ORDER BY sim DESC) AS r FROM vec),
            {fts},
            fts_r AS (SELECT id, rank, matched, row_number() OVER (ORDER BY matched DESC, rank DESC) AS r FROM fts),
            fused AS (
                SELECT COALESCE(v.id, f.id) AS id, v.sim, COALESCE({keyword_sql}, 0.0) AS rank,
                       COALESCE(1.0 / ({RRF_K} + v.r), 0) + COALESCE(1.0 / ({RRF_K} + f.r), 0) AS rrf
                FROM vec_r v FULL OUTER JOIN fts_r f ON v.id = f.id
            )
            SELECT c.id, c.entry_id, e.title, c.content, c.position, c.token_count, fused.sim, fused.rank, fused.rrf
            FROM fused
            JOIN knowledge_chunks c ON c.id = fused.id
            JOIN knowledge_entries e ON e.id = c.entry_id AND e.organization_id = :org
            ORDER BY fused.rrf DESC, fused.sim DESC NULLS LAST
            LIMIT :top_k
            """
        ).bindparams(bindparam("qvec", type_=Vector(d)))
        rows = await self._session.execute(
            statement,
            {
                "qvec": query_vector,
                "org": organization_id,
                "model": model,
                "top_k": top_k,
                **params,
            },
        )
        hits = []
        span = max(1e-6, 1.0 - similarity_floor)
        for row in rows:
            similarity = (
                min(1.0, max(0.0, ((row.sim or 0.0) - similarity_floor) / span))
                if row.sim is not None
                else 0.0
            )
            keyword = min(1.0, float(row.rank or 0.0))  # share of the question's term groups matched
            hits.append(
                SearchHit(
                    chunk_id=row.id,
                    entry_id=row.entry_id,
                    title=row.title,
                    content=row.content,
                    position=row.position,
                    token_count=row.token_count,
                    score=round(0.7 * similarity + 0.3 * keyword, 4),
                    similarity=round(similarity, 4),
                    keyword=round(keyword, 4),
                )
            )
        return hits

    async def neighbours(
        self, organization_id: UUID, entry_id: UUID, positions: Sequence[int]
    ) -> list[SearchHit]:
        rows = await self._session.execute(
            select(KnowledgeChunkRow, KnowledgeEntryRow.title)
            .join(KnowledgeEntryRow, KnowledgeEntryRow.id == KnowledgeChunkRow.entry_id)
            .where(
                KnowledgeChunkRow.organization_id == organization_id,
                KnowledgeChunkRow.entry_id == entry_id,
                KnowledgeChunkRow.position.in_(list(positions)),
            )
        )
        return [
            SearchHit(c.id, c.entry_id, title, c.content, c.position, c.token_count, 0.0, 0.0, 0.0)
            for c, title in rows
        ]
