"""The hybrid search on the chat benchmark's corpus, measured inside PostgreSQL: for each of
``--queries`` generated questions, ``EXPLAIN (ANALYZE)`` of the exact statement ``PgChunkIndex.search``
sends (captured on the wire, replayed after its settings), reporting the server's execution time and
how many of the tenant's chunks the full-text half scored. The corpus is ``bench/_seed.py``'s (the one
``bench/chat_load.py`` uses): FAQ-like chunks built from a few dozen product, feature and filler words,
so most common words are in most chunks — the case where a full-text pre-filter is not selective.

Run: `uv run python -m bench.search_fts --chunks 2000 [--noise-orgs 5 --noise-chunks 200] [--queries 100]`.
For an A/B against an older commit, export it (`git archive REV | tar -x -C /tmp/old`) and run this file
with `PYTHONPATH=/tmp/old/src:.` so that ``kalamna`` is imported from there.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bench._server import percentile

DIMENSIONS = 384
MODEL = "fake-embedding"


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _walk(child))]


def fts_rows(plan: dict[str, Any]) -> int:
    """Rows that reached the full-text scoring: the output of the scan node carrying ``search_vector @@``
    (inside the fts CTE; the largest such node when several)."""
    best = 0
    for node in _walk(plan["Plan"]):
        conditions = " ".join(str(node.get(k, "")) for k in ("Filter", "Recheck Cond", "Index Cond"))
        kind = node.get("Node Type", "")
        if "search_vector @@" in conditions and kind in ("Seq Scan", "Bitmap Heap Scan", "Index Scan"):
            best = max(best, int(node.get("Actual Rows", 0)) * int(node.get("Actual Loops", 1)))
    return best


async def main(args: argparse.Namespace) -> None:
    from tests.fakes.openai_server import FakeOpenAI

    from bench._seed import question, seed
    from kalamna.adapters.postgres.migrations import upgrade_to_head
    from kalamna.config import load_settings
    from kalamna.di import make_container
    from kalamna.domain.text import normalize_for_search
    from kalamna.embedded import resolve_services
    from kalamna.ports.knowledge import ChunkIndex

    data_dir = Path(tempfile.mkdtemp(prefix="klm-fts-bench-", dir=args.data_parent))
    # Registered before the embedded servers' own exit handlers (which rewrite their holder files),
    # so it runs after them.
    atexit.register(shutil.rmtree, data_dir, True)
    env = {
        "KALAMNA_DATA_DIR": str(data_dir),
        "KALAMNA_LOG_LEVEL": "WARNING",
        "KALAMNA_LLM_PROVIDER": "openai",
        "KALAMNA_EMBEDDING_PROVIDER": "openai",
        "KALAMNA_OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "KALAMNA_CHAT_MODEL": "fake-chat",
        "KALAMNA_EMBEDDING_MODEL": MODEL,
        "KALAMNA_EMBEDDING_DIMENSIONS": str(DIMENSIONS),
    }
    settings, services = resolve_services(load_settings(env, dotenv=None))
    container = None
    try:
        assert settings.database_url is not None
        await asyncio.to_thread(upgrade_to_head, settings.database_url)
        container = make_container(settings)
        t0 = time.perf_counter()
        report = await seed(
            container,
            chunks=args.chunks,
            noise_orgs=args.noise_orgs,
            noise_chunks=args.noise_chunks,
            model=MODEL,
            dimensions=DIMENSIONS,
        )
        print(
            f"seeded {report.main.chunks} chunks (+{args.noise_orgs} x {args.noise_chunks} noise) in "
            f"{time.perf_counter() - t0:.1f}s"
        )
        engine = await container.get(AsyncEngine)
        captured: list[tuple[str, Any]] = []

        def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            captured.append((statement, parameters))

        rng = random.Random(11)
        questions = [question(rng, report.main.products) for _ in range(args.queries + 5)]
        server_ms: list[float] = []
        client_ms: list[float] = []
        scored: list[int] = []
        shown = False
        for i, q in enumerate(questions):
            captured.clear()
            event.listen(engine.sync_engine, "before_cursor_execute", grab)
            try:
                async with container() as scope:
                    index = await scope.get(ChunkIndex)
                    t0 = time.perf_counter()
                    await index.search(
                        report.main.id,
                        query_vector=FakeOpenAI.vector(q, DIMENSIONS),
                        query_text=normalize_for_search(q),
                        model=MODEL,
                        top_k=5,
                        similarity_floor=0.1,
                    )
                    elapsed = (time.perf_counter() - t0) * 1000
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", grab)
            main_sql = [(s, p) for s, p in captured if "WITH vec AS" in s]
            if not main_sql:
                continue
            async with engine.connect() as conn:
                for statement, parameters in captured:
                    if "WITH vec AS" in statement:
                        break
                    if statement.lstrip().upper().startswith("SELECT SET_CONFIG"):
                        await conn.exec_driver_sql(statement, parameters)
                statement, parameters = main_sql[-1]
                raw = (
                    await conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                ).scalar_one()
                plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
                if not shown and i >= 5:
                    text_plan = (
                        await conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
                    ).scalars()
                    print(f"\nEXPLAIN ANALYZE of one hybrid search ({q!r}):")
                    for line in text_plan:
                        print("   " + line.rstrip()[:160])
                    shown = True
                await conn.rollback()
            if i < 5:
                continue  # warm-up
            server_ms.append(float(plan["Execution Time"]))
            client_ms.append(elapsed)
            scored.append(fts_rows(plan))
        load = os.getloadavg()
        print(
            f"\n{len(server_ms)} searches over {report.main.chunks} chunks (load {load[0]:.1f} {load[1]:.1f}):"
            f"\n  execution time in PostgreSQL p50 {percentile(server_ms, 50):.2f} ms, p95 "
            f"{percentile(server_ms, 95):.2f} ms, mean {statistics.fmean(server_ms):.2f} ms"
            f"\n  PgChunkIndex.search from the client p50 {percentile(client_ms, 50):.2f} ms, p95 "
            f"{percentile(client_ms, 95):.2f} ms (settings round trip and driver included)"
            f"\n  chunks reaching the full-text scoring: p50 {percentile(scored, 50):.0f}, p95 "
            f"{percentile(scored, 95):.0f}, max {max(scored)}"
        )
    finally:
        if container is not None:
            await container.close()
        if services.postgres is not None:
            services.postgres.stop()
        if services.redis is not None:
            services.redis.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--noise-orgs", type=int, default=5)
    parser.add_argument("--noise-chunks", type=int, default=200)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--data-parent", type=Path, default=None, help="where the temporary data dir goes")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
