"""Chat load benchmark: concurrent widget sessions streaming answers from `kalamna serve`.

A fake OpenAI-compatible server (own process) answers with a fixed first-token latency and a fixed
per-token delay; the knowledge base holds ``--chunks`` chunks (plus noise organizations). For every
message the load generator measures the time to the first SSE ``delta`` and to the end of the
stream, and subtracts the fake model's own times (measured by streaming from it directly), so the
figures are the time *our* server adds. It prints figures, it asserts nothing.

Run from the repository root (``tests`` must be importable)::

    uv run python -m bench.chat_load                       # 50 and 200 sessions, 40 msg/s open loop
    uv run python -m bench.chat_load --concurrency 20,100 --seconds 15 --rate 40 --workers 1,2
    # A/B against an older commit, interleaved in the same run:
    git archive OLD src | tar -x -C /tmp/old && uv run python -m bench.chat_load --before-src /tmp/old/src

For each worker count the servers run one after the other under the same load levels: first the
framework floor (``bench/floor_app.py``: a bare Litestar route streaming the same fake-LLM reply through
the same uvicorn options), then ``--before-src`` if given, then Kalamna; the last table gives the ratios.

Where the time goes: the server stores ``first_token_ms`` / ``latency_ms`` for each reply, measured
from the start of ``PrepareAnswer``; they are joined with the client's figures per message. The
hybrid search, the query embedding and ``PrepareAnswer`` are also timed alone, in-process, idle.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httptools
import psutil
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from tests.fakes.openai_server import FakeOpenAI

from bench._server import free_port, percentile

DIMENSIONS = 384
CHAT_MODEL = "fake-chat"
EMBEDDING_MODEL = "fake-embedding"
TARGET_TTFT_P50_MS = 20.0
TARGET_TTFT_P99_MS = 80.0
TARGET_TTFT_RATE = 40.0
TARGET_THROUGHPUT = 100.0
GRACE_S = 10.0  # how long messages still running at the end of a level may take to finish

_DELTA = re.compile(rb"event: delta")
_FAKE_TOKEN = re.compile(rb'"content": "[^"]')  # first non-empty content chunk from the fake


def reply_text(words: int) -> str:
    base = [
        "Sure,",
        "here",
        "is",
        "what",
        "our",
        "knowledge",
        "base",
        "says",
        "about",
        "it:",
        "open",
        "the",
        "settings",
        "page,",
        "choose",
        "the",
        "option",
        "you",
        "need",
        "and",
        "confirm;",
        "it",
        "usually",
        "takes",
        "a",
        "few",
        "minutes",
        "and",
        "you",
        "will",
        "get",
        "an",
        "email",
        "once",
        "it",
        "is",
        "done.",
    ]
    return " ".join((base * (words // len(base) + 1))[:words])


# The fake LLM, in a process of its own ----------------------------------------------------------


class _BenchFake(FakeOpenAI):
    """Latency on chat completions only (``latency_s`` would delay embeddings too), and a bounded
    request log (the test fake keeps every request body)."""

    chat_latency_s: float = 0.0
    embed_latency_s: float = 0.0

    async def _chat(self, request: Request) -> Response:
        await asyncio.sleep(self.chat_latency_s)
        return await super()._chat(request)

    async def _embeddings(self, request: Request) -> Response:
        if self.embed_latency_s:
            await asyncio.sleep(self.embed_latency_s)
        return await super()._embeddings(request)


def serve_fake_llm(latency_ms: float, token_delay_ms: float, embed_latency_ms: float, words: int) -> None:
    fake = _BenchFake(
        reply=reply_text(words),
        chat_model=CHAT_MODEL,
        embedding_model=EMBEDDING_MODEL,
        embedding_dimensions=DIMENSIONS,
        token_delay_s=token_delay_ms / 1000,
    )
    fake.chat_latency_s = latency_ms / 1000
    fake.embed_latency_s = embed_latency_ms / 1000
    fake._requests = deque(maxlen=16)  # type: ignore[assignment]
    fake.start()
    print(fake.port, flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    fake.stop()


@contextlib.contextmanager
def fake_llm_process(args: argparse.Namespace) -> Iterator[tuple[subprocess.Popen[str], int]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.chat_load",
            "--serve-fake-llm",
            f"{args.llm_latency_ms},{args.token_delay_ms},{args.embedding_latency_ms},{args.reply_words}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        yield proc, port
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# A small HTTP/1.1 client (keep-alive, chunked bodies) that timestamps every read -----------------


class _Response:
    __slots__ = ("body", "complete", "first_at", "marker", "now", "scanned", "status")

    def __init__(self, marker: re.Pattern[bytes] | None) -> None:
        self.body = bytearray()
        self.complete = False
        self.first_at: float | None = None
        self.marker = marker
        self.now = 0.0
        self.scanned = 0
        self.status = 0

    def on_body(self, data: bytes) -> None:
        self.body += data
        if self.first_at is None and self.marker is not None:
            if self.marker.search(self.body, self.scanned):
                self.first_at = self.now
            self.scanned = max(0, len(self.body) - 32)

    def on_message_complete(self) -> None:
        self.complete = True


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
        marker: re.Pattern[bytes] | None = None,
        timeout: float = 60.0,
    ) -> tuple[_Response, float, float]:
        """(response, started, completed) with perf_counter times; ``response.first_at`` is the
        read in which ``marker`` first appeared in the body."""
        try:
            async with asyncio.timeout(timeout):
                return await self._request(method, path, headers, body, marker)
        except BaseException:
            self.close()
            raise

    async def _request(
        self, method: str, path: str, headers: dict[str, str], body: bytes, marker: re.Pattern[bytes] | None
    ) -> tuple[_Response, float, float]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        response = _Response(marker)
        parser = httptools.HttpResponseParser(response)
        started = time.perf_counter()
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        while not response.complete:
            data = await self._reader.read(65536)
            response.now = time.perf_counter()
            if not data:
                raise ConnectionError("connection closed mid-response")
            parser.feed_data(data)
        response.status = parser.get_status_code()
        if not parser.should_keep_alive():
            self.close()
        return response, started, response.now

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


JSON = {"Content-Type": "application/json"}


# Measurements -----------------------------------------------------------------------------------


@dataclass
class Sample:
    ttft_ms: float
    full_ms: float
    reply_id: UUID | None
    finished: float
    queued_ms: float = 0.0  # open loop: from the scheduled time to the send (waiting for a session)


@dataclass
class LevelResult:
    name: str
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    server: dict[UUID, tuple[int | None, int | None, str | None]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    db: dict[str, float] = field(default_factory=dict)
    waits: Counter[str] = field(default_factory=Counter)
    idle_queries: Counter[str] = field(default_factory=Counter)
    cpu_seconds: float = 0.0
    loop_lag_ms: list[float] = field(default_factory=list)
    send_lag_ms: list[float] = field(default_factory=list)
    offered: float | None = None

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds


@dataclass
class Baseline:
    ttft_ms: float
    full_ms: float
    embed_ms: float
    ttft_spread: tuple[float, float]
    full_spread: tuple[float, float]


@dataclass
class Session:
    id: str
    token: str
    conn: Connection


class Widget:
    def __init__(self, host: str, port: int, api_key: str, questions: Callable[[], str]) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.questions = questions

    async def start_session(self) -> Session:
        conn = Connection(self.host, self.port)
        response, _, _ = await conn.request(
            "POST", "/api/v1/chat/sessions", {**JSON, "X-API-Key": self.api_key}, b"{}"
        )
        if response.status != 201:
            raise RuntimeError(f"session start failed: {response.status} {bytes(response.body)[:300]!r}")
        data = json.loads(response.body)
        return Session(data["session_id"], data["session_token"], conn)

    async def send(self, session: Session) -> tuple[Sample | None, str | None]:
        body = json.dumps({"content": self.questions()}).encode()
        headers = {
            **JSON,
            "Accept": "text/event-stream",
            "X-API-Key": self.api_key,
            "X-Session-Token": session.token,
        }
        try:
            response, started, done = await session.conn.request(
                "POST", f"/api/v1/chat/sessions/{session.id}/messages", headers, body, _DELTA
            )
        except (OSError, TimeoutError) as exc:
            return None, type(exc).__name__
        if response.status != 200:
            return None, f"HTTP {response.status}"
        raw = bytes(response.body)
        marker = raw.rfind(b"event: done\ndata: ")
        if marker < 0 or response.first_at is None:
            tail = raw[raw.rfind(b"event:") :][:120]
            return None, f"no done event ({tail!r})"
        payload = raw[marker + len(b"event: done\ndata: ") :].split(b"\n\n", 1)[0]
        reply_id = UUID(json.loads(payload)["reply"]["id"])
        return Sample((response.first_at - started) * 1000, (done - started) * 1000, reply_id, done), None


# Sampling what the machine does during a level ------------------------------------------------


class CpuMeter:
    """CPU seconds per component between start() and stop(), as % of one core."""

    def __init__(self, groups: dict[str, Callable[[], list[psutil.Process]]]) -> None:
        self.groups = groups
        self._start: dict[tuple[str, int], float] = {}
        self._t0 = 0.0
        self.wall = 0.0

    def _snapshot(self) -> dict[tuple[str, int], float]:
        out: dict[tuple[str, int], float] = {}
        for name, find in self.groups.items():
            for proc in find():
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    out[(name, proc.pid)] = times.user + times.system
        return out

    def start(self) -> None:
        self._start = self._snapshot()
        self._t0 = time.perf_counter()

    def stop(self) -> dict[str, float]:
        end = self._snapshot()
        wall = self.wall = time.perf_counter() - self._t0
        totals: dict[str, float] = dict.fromkeys(self.groups, 0.0)
        for key, value in end.items():
            totals[key[0]] += value - self._start.get(key, 0.0)
        return {name: 100 * seconds / wall for name, seconds in totals.items()}


def _tree(proc: psutil.Process | None) -> list[psutil.Process]:
    if proc is None:
        return []
    with contextlib.suppress(psutil.Error):
        return [proc, *proc.children(recursive=True)]
    return []


def _pid_process(path: Path) -> psutil.Process | None:
    with contextlib.suppress(OSError, ValueError, psutil.Error):
        return psutil.Process(int(path.read_text().split()[0]))
    return None


async def sample_database(engine: AsyncEngine, stop: asyncio.Event, result: LevelResult) -> None:
    active: list[int] = []
    in_tx: list[int] = []
    query = text(
        "SELECT state, wait_event_type, wait_event, left(query, 48) AS query FROM pg_stat_activity "
        "WHERE application_name = 'kalamna' AND pid <> pg_backend_pid()"
    )
    async with engine.connect() as conn:
        while not stop.is_set():
            rows = (await conn.execute(query)).all()
            await conn.rollback()
            active.append(sum(1 for r in rows if r.state == "active"))
            in_tx.append(sum(1 for r in rows if r.state == "idle in transaction"))
            for r in rows:
                if r.state == "idle in transaction":
                    result.idle_queries[" ".join(r.query.split())] += 1
            for r in rows:
                if r.state == "active":
                    result.waits[f"{r.wait_event_type or 'CPU'}:{r.wait_event or '-'}"] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)
    if active:
        result.db = {
            "active mean": statistics.fmean(active),
            "active max": max(active),
            "idle-in-tx mean": statistics.fmean(in_tx),
            "idle-in-tx max": max(in_tx),
        }


async def loop_lag(stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.01)
        out.append((time.perf_counter() - t - 0.01) * 1000)


# The benchmark ---------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(11)

    def kalamna_env(self, data_dir: Path, llm_port: int) -> dict[str, str]:
        env = {
            "KALAMNA_DATA_DIR": str(data_dir),
            "KALAMNA_LOG_LEVEL": "WARNING",
            "KALAMNA_LLM_PROVIDER": "openai",
            "KALAMNA_EMBEDDING_PROVIDER": "openai",
            "KALAMNA_OPENAI_BASE_URL": f"http://127.0.0.1:{llm_port}/v1",
            "KALAMNA_CHAT_MODEL": CHAT_MODEL,
            "KALAMNA_EMBEDDING_MODEL": EMBEDDING_MODEL,
            "KALAMNA_EMBEDDING_DIMENSIONS": str(DIMENSIONS),
            "KALAMNA_RATE_LIMIT_WIDGET_SESSION_MESSAGES": "1000000/60",
            "KALAMNA_RATE_LIMIT_WIDGET_KEY_REQUESTS": "1000000/60",
            "KALAMNA_RATE_LIMIT_WIDGET_CLIENT_REQUESTS": "1000000/60",  # every session comes from one IP here
        }
        for item in self.args.server_env:
            key, _, value = item.partition("=")
            env[key if key.startswith("KALAMNA_") else f"KALAMNA_{key}"] = value
        return env

    def run(self) -> None:
        args = self.args
        data_dir = Path(tempfile.mkdtemp(prefix="klm-chat-bench-"))
        # Registered first, so it runs last: after the embedded servers' own atexit handlers.
        atexit.register(_cleanup, data_dir, args.keep_data)
        print("Kalamna chat load benchmark")
        print(
            f"  fake LLM: first token after {args.llm_latency_ms:g} ms, then {args.reply_words} tokens "
            f"x {args.token_delay_ms:g} ms; embeddings +{args.embedding_latency_ms:g} ms (own process)"
        )
        print(
            f"  knowledge: {args.chunks} chunks in the benchmarked organization, plus {args.noise_orgs} "
            f"noise organizations x {args.noise_chunks} chunks; {DIMENSIONS}-dim vectors, HNSW"
        )
        workers = ", ".join(str(w) for w in args.workers)
        floor = "the bare-Litestar floor, then " if args.floor else ""
        print(f"  server: {floor}kalamna serve, for --workers {workers}; data dir {data_dir}")
        print(
            f"  NOTE: the load generator, the fake LLM, PostgreSQL, Redis and the server all share this "
            f"machine's {os.cpu_count()} CPU cores; figures include that contention."
        )
        with fake_llm_process(args) as (fake_proc, llm_port):
            env = self.kalamna_env(data_dir, llm_port)
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(self.main(env, data_dir, fake_proc, llm_port))

    async def main(self, env: dict[str, str], data_dir: Path, fake_proc: Any, llm_port: int) -> None:
        from bench._seed import seed
        from kalamna.config import load_settings
        from kalamna.di import make_container
        from kalamna.embedded import resolve_services

        args = self.args
        settings, _services = resolve_services(load_settings(env, dotenv=None))  # we hold PG + Redis
        proc_env = {k: v for k, v in os.environ.items() if not k.startswith("KALAMNA_")} | env
        log_path = data_dir / "server.log"
        t0 = time.perf_counter()
        migrate = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "kalamna.cli",
            "migrate",
            env=proc_env,
            cwd=data_dir,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        if await migrate.wait() != 0:
            raise RuntimeError("kalamna migrate failed")
        migrate_s = time.perf_counter() - t0
        container = make_container(settings)
        server: asyncio.subprocess.Process | None = None
        try:
            report = await seed(
                container,
                chunks=args.chunks,
                noise_orgs=args.noise_orgs,
                noise_chunks=args.noise_chunks,
                model=EMBEDDING_MODEL,
                dimensions=DIMENSIONS,
            )
            total_chunks = report.main.chunks + sum(o.chunks for o in report.noise)
            steps = ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
            print(f"\nSetup: migrate {migrate_s:.1f}s, {steps} ({total_chunks} chunks in total)")
            products = report.main.products

            def questions() -> str:
                from bench._seed import question

                return question(self.rng, products)

            baseline = await self.baseline(llm_port)
            print(
                f"\nFake LLM alone (streamed directly, idle, n={args.baseline_n}): first token p50 "
                f"{baseline.ttft_ms:.1f} ms (p5-p95 {baseline.ttft_spread[0]:.1f}-{baseline.ttft_spread[1]:.1f}),"
                f" full reply p50 {baseline.full_ms:.1f} ms ({baseline.full_spread[0]:.1f}-"
                f"{baseline.full_spread[1]:.1f}); one query embedding p50 {baseline.embed_ms:.1f} ms"
            )
            print("  -> subtracted from every client measurement below ('added' = client time - these).")

            widget_key = report.main.api_key or ""
            await self.components(container, report.main.id, widget_key, questions)
            engine = await container.get(AsyncEngine)
            results: list[LevelResult] = []
            for workers in args.workers:
                # The floor first, then Kalamna, for each worker count: the two run back to back under
                # the same conditions (interleaved A/B), since the machine's other load drifts.
                targets = (
                    (("floor",) if args.floor else ())
                    + (("before",) if args.before_src else ())
                    + ("kalamna",)
                )
                for target in targets:
                    port = free_port()
                    server = await self.start_server(
                        target, workers, port, proc_env, data_dir, log_path, llm_port
                    )
                    await self.wait_healthy(port, server, log_path)
                    widget = Widget("127.0.0.1", port, "" if target == "floor" else widget_key, questions)
                    server_proc = psutil.Process(server.pid)
                    meter = CpuMeter(
                        {
                            "server": lambda p=server_proc: _tree(p),  # type: ignore[misc]
                            "postgres": lambda: _tree(_pid_process(data_dir / "postgres" / "postmaster.pid")),
                            "redis": lambda: _tree(_pid_process(data_dir / "redis" / "redis.pid")),
                            "fake LLM": lambda: _tree(psutil.Process(fake_proc.pid)),
                            "load generator": lambda: [psutil.Process()],
                        }
                    )
                    label = f"{target} w{workers}"
                    if args.rate > 0:
                        results.append(
                            await self.open_loop(widget, args.rate, args.rate_seconds, meter, engine)
                        )
                        results[-1].name = f"{label} open {args.rate:g}/s"
                        await self.settle(engine, results[-1])
                    for n in args.concurrency:
                        results.append(await self.closed_loop(widget, n, args.seconds, meter, engine))
                        results[-1].name = f"{label} closed {n}"
                        await self.settle(engine, results[-1])
                    await self.stop_server(server, log_path)
                    server = None
            for result in results:
                if not result.name.startswith("floor"):
                    await self.join_server_times(engine, result)
            self.report(results, baseline)
            self.report_floor(results, baseline)
        finally:
            if server is not None and server.returncode is None:
                server.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(server.wait(), 40)
                except TimeoutError:
                    server.kill()
                    await server.wait()
            await container.close()

    async def start_server(
        self,
        target: str,
        workers: int,
        port: int,
        proc_env: dict[str, str],
        data_dir: Path,
        log_path: Path,
        llm_port: int,
    ) -> asyncio.subprocess.Process:
        """``kalamna serve`` or the bare-Litestar floor (``bench/floor_app.py``), same uvicorn options."""
        if target in ("kalamna", "before"):
            command = ["-m", "kalamna.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
            env = proc_env | {"KALAMNA_WORKERS": str(workers)}
            if target == "before":  # another checkout's src/ shadows the installed package
                env["PYTHONPATH"] = self.args.before_src  # made absolute in main()
        else:
            command = ["-m", "bench.floor_app", "--port", str(port)]
            env = proc_env | {"BENCH_FLOOR_LLM_URL": f"http://127.0.0.1:{llm_port}/v1"}
            env["PYTHONPATH"] = os.pathsep.join([str(Path.cwd()), env.get("PYTHONPATH", "")]).rstrip(
                os.pathsep
            )
        print(f"\n[{target}, {workers} worker{'s' if workers > 1 else ''}] starting")
        with log_path.open("ab") as log:
            return await asyncio.create_subprocess_exec(
                sys.executable,
                *command,
                "--workers",
                str(workers),
                env=env,
                cwd=Path.cwd() if target == "floor" else data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def stop_server(self, server: asyncio.subprocess.Process, log_path: Path) -> None:
        server.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(server.wait(), 40)
        except TimeoutError:
            server.kill()
            await server.wait()
        if server.returncode not in (0, -signal.SIGINT):
            print(f"  (server exited with {server.returncode}; log: {log_path})")

    async def wait_healthy(self, port: int, server: asyncio.subprocess.Process, log_path: Path) -> None:
        conn = Connection("127.0.0.1", port)
        deadline = time.monotonic() + 300  # a loaded machine imports slowly
        t0 = time.perf_counter()
        while time.monotonic() < deadline:
            if server.returncode is not None:
                raise RuntimeError(f"the server exited ({server.returncode}); see {log_path}")
            with contextlib.suppress(OSError, TimeoutError):
                response, _, _ = await conn.request("GET", "/api/v1/health", {}, timeout=5)
                if response.status == 200:
                    conn.close()
                    print(f"  healthy after {time.perf_counter() - t0:.1f}s")
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"the server did not become healthy; see {log_path}")

    async def baseline(self, llm_port: int) -> Baseline:
        """The fake's own first-token and full-reply times, streamed directly by the same client,
        with a prompt of the size the server sends (~2,000 context tokens)."""
        conn = Connection("127.0.0.1", llm_port)
        context = " ".join(["The warranty covers repairs for two years in most countries."] * 180)
        body = json.dumps(
            {
                "model": CHAT_MODEL,
                "messages": [
                    {"role": "system", "content": "You are a support assistant.\n" + context},
                    {"role": "user", "content": "How do I reset the warranty on my Zenkor Pro?"},
                ],
                "stream": True,
                "stream_options": {"include_usage": True},
                "max_tokens": 512,
                "temperature": 0.2,
            }
        ).encode()
        embed = json.dumps(
            {"model": EMBEDDING_MODEL, "input": ["How do I reset it?"], "encoding_format": "base64"}
        ).encode()
        ttft: list[float] = []
        full: list[float] = []
        embeds: list[float] = []
        for i in range(self.args.baseline_n + 2):
            response, started, done = await conn.request(
                "POST", "/v1/chat/completions", JSON, body, _FAKE_TOKEN
            )
            assert response.status == 200 and response.first_at is not None, response.status
            e_response, e_started, e_done = await conn.request("POST", "/v1/embeddings", JSON, embed)
            assert e_response.status == 200, e_response.status
            if i >= 2:  # warm-up
                ttft.append((response.first_at - started) * 1000)
                full.append((done - started) * 1000)
                embeds.append((e_done - e_started) * 1000)
        conn.close()
        return Baseline(
            percentile(ttft, 50),
            percentile(full, 50),
            percentile(embeds, 50),
            (percentile(ttft, 5), percentile(ttft, 95)),
            (percentile(full, 5), percentile(full, 95)),
        )

    async def components(
        self, container: Any, org_id: UUID, api_key: str, questions: Callable[[], str]
    ) -> None:
        """Each step of the answer path alone, in this process, one at a time (no load)."""
        from kalamna.application.chat.answering import PrepareAnswer
        from kalamna.application.chat.sessions import StartSession, WidgetAccess
        from kalamna.application.knowledge.retrieval import SearchKnowledge
        from kalamna.domain.text import normalize_for_search
        from kalamna.ports.ai import Embedder
        from kalamna.ports.knowledge import ChunkIndex

        n = self.args.component_n
        embedder = await container.get(Embedder)
        qs = [questions() for _ in range(n + 5)]
        timings: dict[str, list[float]] = {
            "widget access (API key + bot config)": [],
            "query embedding (HTTP to fake)": [],
            "hybrid search SQL (PgChunkIndex.search)": [],
            "SearchKnowledge (embedding + SQL)": [],
            "PrepareAnswer (store question + search + context + prompt)": [],
        }
        names = list(timings)
        hits: list[int] = []
        prompt_tokens: list[int] = []
        async with container() as scope:
            organization, config = await (await scope.get(WidgetAccess))(api_key)
            started = await (await scope.get(StartSession))(organization, config, {}, {})
        for i, q in enumerate(qs):
            record = i >= 5  # warm-up
            async with container() as scope:
                t = time.perf_counter()
                await (await scope.get(WidgetAccess))(api_key)
                if record:
                    timings[names[0]].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            await embedder.embed_query(q)
            if record:
                timings[names[1]].append((time.perf_counter() - t) * 1000)
            async with container() as scope:
                index = await scope.get(ChunkIndex)
                vector = FakeOpenAI.vector(q, DIMENSIONS)
                t = time.perf_counter()
                found = await index.search(
                    org_id,
                    query_vector=vector,
                    query_text=normalize_for_search(q),
                    model=embedder.model,
                    top_k=config.top_k,
                    similarity_floor=0.1,
                )
                if record:
                    timings[names[2]].append((time.perf_counter() - t) * 1000)
                    hits.append(len(found))
            async with container() as scope:
                search = await scope.get(SearchKnowledge)
                t = time.perf_counter()
                await search(org_id, q, config.top_k)
                if record:
                    timings[names[3]].append((time.perf_counter() - t) * 1000)
            async with container() as scope:
                prepare = await scope.get(PrepareAnswer)
                t = time.perf_counter()
                plan = await prepare(started.session, config, q)
                if record:
                    timings[names[4]].append((time.perf_counter() - t) * 1000)
                    prompt_tokens.append(plan.prompt_tokens)
        print(f"\nThe answer path step by step (in-process, idle, sequential, n={n}; ms):")
        print(f"  {'step':<62} {'p50':>7} {'p95':>7} {'p99':>7}")
        for name, values in timings.items():
            print(
                f"  {name:<62} {percentile(values, 50):7.2f} {percentile(values, 95):7.2f} "
                f"{percentile(values, 99):7.2f}"
            )
        print(
            f"  (top_k {config.top_k}: {statistics.fmean(hits):.1f} hits per query; prompt "
            f"{statistics.fmean(prompt_tokens):.0f} tokens on average)"
        )
        await self.explain_search(container, org_id, qs[-1], embedder.model, config.top_k)

    async def explain_search(self, container: Any, org_id: UUID, q: str, model: str, top_k: int) -> None:
        """EXPLAIN ANALYZE of the exact statement PgChunkIndex.search sends (captured on the wire)."""
        from sqlalchemy import event

        from kalamna.adapters.postgres.chunk_index import EF_SEARCH
        from kalamna.domain.text import normalize_for_search
        from kalamna.ports.knowledge import ChunkIndex

        engine = await container.get(AsyncEngine)
        captured: list[tuple[str, Any]] = []

        def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if "WITH vec AS" in statement:
                captured.append((statement, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", grab)
        try:
            async with container() as scope:
                index = await scope.get(ChunkIndex)
                await index.search(
                    org_id,
                    query_vector=FakeOpenAI.vector(q, DIMENSIONS),
                    query_text=normalize_for_search(q),
                    model=model,
                    top_k=top_k,
                    similarity_floor=0.1,
                )
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", grab)
        if not captured:
            return
        statement, parameters = captured[-1]
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SET LOCAL hnsw.iterative_scan = relaxed_order")
            await conn.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}")
            plan = (
                (await conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters))
                .scalars()
                .all()
            )
            await conn.rollback()
        keep = ("Scan", "Sort", "Limit", "Hash", "Nested", "Merge", "WindowAgg", "Time:", "Time ")
        print(f"  EXPLAIN ANALYZE of one hybrid search ({q!r}), main nodes:")
        for line in plan:
            if any(k in line for k in keep):
                print("   " + line.rstrip()[:150])

    async def _measure(
        self, result: LevelResult, meter: CpuMeter, engine: AsyncEngine, body: Callable[[], Any]
    ) -> None:
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_database(engine, stop, result))
        lag = asyncio.create_task(loop_lag(stop, result.loop_lag_ms))
        meter.start()
        try:
            await body()
        finally:
            result.cpu = meter.stop()
            result.cpu_seconds = meter.wall
            stop.set()
            await asyncio.gather(sampler, lag)

    async def _drain(self, result: LevelResult, tasks: list[asyncio.Task[None]], in_flight: set[int]) -> None:
        """Let messages still running at the end of the window finish, for at most GRACE_S."""
        if tasks:
            await asyncio.wait(tasks, timeout=GRACE_S)
        stuck = len(in_flight)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if stuck:
            result.errors[f"still no reply {GRACE_S:g}s after the window (cancelled)"] += stuck

    async def closed_loop(
        self, widget: Widget, n: int, seconds: float, meter: CpuMeter, engine: AsyncEngine
    ) -> LevelResult:
        sessions = await asyncio.gather(*(widget.start_session() for _ in range(n)))
        result = LevelResult(f"closed loop, {n} sessions", seconds)
        warmup = self.args.warmup
        begin = time.perf_counter() + warmup
        end = begin + seconds
        in_flight: set[int] = set()

        async def user(i: int, session: Session) -> None:
            await asyncio.sleep(i / n)  # spread the first messages over a second, not one burst
            while time.perf_counter() < end:
                in_flight.add(i)
                sample, error = await widget.send(session)
                in_flight.discard(i)
                now = time.perf_counter()
                if begin <= now <= end:
                    if sample is not None:
                        result.samples.append(sample)
                    else:
                        result.errors[error or "?"] += 1
                if error:
                    await asyncio.sleep(0.05)

        tasks = [asyncio.create_task(user(i, s)) for i, s in enumerate(sessions)]
        await asyncio.sleep(warmup)
        await self._measure(result, meter, engine, lambda: asyncio.sleep(max(0.0, end - time.perf_counter())))
        await self._drain(result, tasks, in_flight)
        for s in sessions:
            s.conn.close()
        return result

    async def open_loop(
        self, widget: Widget, rate: float, seconds: float, meter: CpuMeter, engine: AsyncEngine
    ) -> LevelResult:
        """Messages start at fixed intervals whatever the server does (no coordinated omission);
        each goes to an idle session of a pool. A message is counted from its scheduled time."""
        pool_size = max(64, int(rate * 3))
        idle: asyncio.Queue[Session] = asyncio.Queue()
        for s in await asyncio.gather(*(widget.start_session() for _ in range(pool_size))):
            idle.put_nowait(s)
        result = LevelResult(f"open loop, {rate:g} msg/s offered", seconds, offered=rate)
        interval = 1 / rate
        t0 = time.perf_counter()
        begin = t0 + self.args.warmup
        end = begin + seconds
        tasks: list[asyncio.Task[None]] = []
        in_flight: set[int] = set()

        async def one(i: int, scheduled: float) -> None:
            record = scheduled >= begin
            try:
                session = await asyncio.wait_for(idle.get(), max(0.001, end - time.perf_counter()))
            except TimeoutError:
                if record:
                    result.errors[f"no idle session among {pool_size} (all waiting for replies)"] += 1
                return
            if record:
                result.send_lag_ms.append((time.perf_counter() - scheduled) * 1000)
            queued_ms = (time.perf_counter() - scheduled) * 1000
            in_flight.add(i)
            sample, error = await widget.send(session)
            in_flight.discard(i)
            idle.put_nowait(session)
            if sample is not None:
                sample.queued_ms = queued_ms
            if record:
                if sample is not None:
                    result.samples.append(sample)
                else:
                    result.errors[error or "?"] += 1

        async def generate() -> None:
            i = 0
            while (scheduled := t0 + i * interval) < end:
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i, scheduled)))
                i += 1

        generator = asyncio.create_task(generate())
        await asyncio.sleep(max(0.0, begin - time.perf_counter()))
        await self._measure(result, meter, engine, lambda: generator)
        await self._drain(result, tasks, in_flight)
        while not idle.empty():
            idle.get_nowait().conn.close()
        return result

    async def settle(self, engine: AsyncEngine, result: LevelResult, limit_s: float = 60.0) -> None:
        """Replies outlive their requests: wait until the server holds no busy DB connection, so that
        one level's backlog does not spill into the next."""
        query = text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kalamna' "
            "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
        )
        t0 = time.perf_counter()
        busy = 0
        async with engine.connect() as conn:
            while time.perf_counter() - t0 < limit_s:
                busy = int((await conn.execute(query)).scalar_one())
                await conn.rollback()
                if busy == 0:
                    break
                await asyncio.sleep(0.25)
        waited = time.perf_counter() - t0
        if busy:
            print(
                f"  after '{result.name}': the server still holds {busy} busy DB connections after {waited:.0f}s"
            )
        elif waited > 1:
            print(
                f"  after '{result.name}': waited {waited:.1f}s for the server to release its DB connections"
            )

    async def join_server_times(self, engine: AsyncEngine, result: LevelResult) -> None:
        ids = [s.reply_id for s in result.samples if s.reply_id is not None]
        if not ids:
            return
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT id, first_token_ms, latency_ms, outcome FROM chat_messages WHERE id = ANY(:ids)"
                ),
                {"ids": ids},
            )
            for row in rows:
                result.server[row.id] = (row.first_token_ms, row.latency_ms, row.outcome)

    def report(self, results: list[LevelResult], baseline: Baseline) -> None:
        def trio(values: list[float]) -> str:
            return (
                f"{percentile(values, 50):7.1f} {percentile(values, 95):7.1f} {percentile(values, 99):7.1f}"
            )

        print("\nTime our server adds (client time minus the fake LLM's own time), ms:")
        print(
            f"  {'level':<30} {'msg/s':>6} {'n':>6} {'err':>4} | {'first token p50/p95/p99':>23} |"
            f" {'full reply p50/p95/p99':>23}"
        )
        for r in results:
            ttft = [s.queued_ms + s.ttft_ms - baseline.ttft_ms for s in r.samples]
            full = [s.queued_ms + s.full_ms - baseline.full_ms for s in r.samples]
            print(
                f"  {r.name:<30} {r.rate:6.1f} {len(r.samples):6d} {sum(r.errors.values()):4d} | {trio(ttft)} |"
                f" {trio(full)}"
            )
            for error, count in r.errors.most_common(3):
                print(f"      error x{count}: {error}")
        print(
            f"  targets (2 cores): added first token p50 <= {TARGET_TTFT_P50_MS:g} ms and p99 <= "
            f"{TARGET_TTFT_P99_MS:g} ms at {TARGET_TTFT_RATE:g} msg/s; >= {TARGET_THROUGHPUT:g} msg/s sustained"
        )
        open_loop = [r for r in results if r.offered is not None]
        for r in open_loop:
            ttft = [s.queued_ms + s.ttft_ms - baseline.ttft_ms for s in r.samples]
            p50, p99 = percentile(ttft, 50), percentile(ttft, 99)
            print(
                f"  at {r.offered:g} msg/s offered ({r.rate:.1f} completed/s): first token p50 {p50:.1f} ms "
                f"({'meets' if p50 <= TARGET_TTFT_P50_MS else 'misses'} <= {TARGET_TTFT_P50_MS:g}), "
                f"p99 {p99:.1f} ms ({'meets' if p99 <= TARGET_TTFT_P99_MS else 'misses'} "
                f"<= {TARGET_TTFT_P99_MS:g})"
            )
        closed = [r for r in results if r.offered is None]
        if closed:
            best = max(closed, key=lambda r: r.rate)
            cap = max(self.args.concurrency) * 1000 / (baseline.full_ms or 1)  # if we added nothing
            print(
                f"  saturation: {best.rate:.1f} msg/s ({best.name}; "
                f"{'meets' if best.rate >= TARGET_THROUGHPUT else 'misses'} >= {TARGET_THROUGHPUT:g}); "
                f"the sessions alone could drive ~{cap:.0f} msg/s if the server added nothing"
            )

        print(
            "\nWhere the time goes, per message (server's first_token_ms / latency_ms joined by reply id), ms:"
        )
        print(
            "  A = server first_token_ms - LLM first token: inside PrepareAnswer (store question, history,\n"
            "      embedding, hybrid search, context, prompt) + our LLM client up to the first token\n"
            "  B = client first token - server first_token_ms: before PrepareAnswer (HTTP, DI, API key,\n"
            "      bot config, 2 rate-limit calls, session lookup) + delta queue -> SSE -> client\n"
            "  C = server latency_ms - LLM full reply: A + relaying the tokens\n"
            "  D = client full reply - server latency_ms: B + SaveReply (insert + commit) + done event"
        )
        print(f"  {'level':<30} {'A p50/p99':>15} {'B p50/p99':>15} {'C p50/p99':>15} {'D p50/p99':>15}")
        for r in results:
            if r.name.startswith("floor"):
                continue  # the floor stores no server-side times
            a: list[float] = []
            b: list[float] = []
            c: list[float] = []
            d: list[float] = []
            outcomes: Counter[str] = Counter()
            for s in r.samples:
                first, latency, outcome = (
                    r.server.get(s.reply_id, (None, None, None)) if s.reply_id else (None,) * 3
                )
                outcomes[outcome or "missing"] += 1
                if first is not None:
                    a.append(first - baseline.ttft_ms)
                    b.append(s.ttft_ms - first)
                if latency is not None:
                    c.append(latency - baseline.full_ms)
                    d.append(s.full_ms - latency)

            def pair(values: list[float]) -> str:
                return f"{percentile(values, 50):7.1f}/{percentile(values, 99):<7.1f}"

            print(f"  {r.name:<30} {pair(a):>15} {pair(b):>15} {pair(c):>15} {pair(d):>15}")
            print(f"      reply outcomes: {dict(outcomes)}")

        print("\nMachine during each level (CPU as % of one core; the box has 200% on 2 cores):")
        for r in results:
            cpu = "  ".join(f"{k} {v:.0f}%" for k, v in r.cpu.items())
            print(f"  {r.name:<30} {cpu}  (total {sum(r.cpu.values()):.0f}%)")
            done = len(r.samples) * r.cpu_seconds / r.seconds  # messages completed while metering
            if done:
                per = ", ".join(
                    f"{k} {v / 100 * r.cpu_seconds * 1000 / done:.1f}" for k, v in r.cpu.items() if v >= 1
                )
                print(f"      CPU ms per message: {per}")
            if r.db:
                waits = ", ".join(f"{k} {v}" for k, v in r.waits.most_common(4))
                print(
                    f"      server DB connections: active mean {r.db['active mean']:.1f} (max "
                    f"{r.db['active max']:.0f}), idle in transaction mean {r.db['idle-in-tx mean']:.1f} "
                    f"(max {r.db['idle-in-tx max']:.0f}); active waits sampled: {waits or '-'}"
                )
                for query, count in r.idle_queries.most_common(2):
                    print(f"      idle in transaction after: {query!r} ({count} samples)")
            lag = f"event-loop lag p50 {percentile(r.loop_lag_ms, 50):.1f} / p99 {percentile(r.loop_lag_ms, 99):.1f} ms"
            if r.send_lag_ms:
                lag += (
                    f"; send delay after schedule (incl. waiting for an idle session) p99 "
                    f"{percentile(r.send_lag_ms, 99):.1f} ms"
                )
            print(f"      load generator {lag}")

    def report_floor(self, results: list[LevelResult], baseline: Baseline) -> None:
        """Kalamna beside the bare-Litestar floor, level by level (same workers, same load)."""
        by_name = {r.name: r for r in results}
        pairs = [
            (r, by_name.get("floor " + r.name.split(" ", 1)[1]))
            for r in results
            if r.name.startswith(("kalamna", "before"))
        ]
        pairs = [(k, f) for k, f in pairs if f is not None]
        if not pairs:
            return

        def added(r: LevelResult, p: float) -> float:
            return percentile([s.queued_ms + s.ttft_ms - baseline.ttft_ms for s in r.samples], p)

        def server_cpu_ms(r: LevelResult) -> float:
            done = len(r.samples) * r.cpu_seconds / r.seconds
            return r.cpu.get("server", 0.0) / 100 * r.cpu_seconds * 1000 / done if done else float("nan")

        print(
            "\nKalamna against the framework floor (bare Litestar route, same uvicorn setup, same fake LLM):"
        )
        print(
            f"  {'level':<32} {'msg/s K/floor':>15} {'ratio':>6} | {'added 1st token p50 K/floor':>28} |"
            f" {'p99 K/floor':>15} | {'server CPU ms/msg K/floor':>26} {'ratio':>6}"
        )
        for k, f in pairs:
            level = k.name
            k_cpu, f_cpu = server_cpu_ms(k), server_cpu_ms(f)
            print(
                f"  {level:<32} {k.rate:7.1f}/{f.rate:<7.1f} {k.rate / f.rate if f.rate else float('nan'):6.2f} |"
                f" {added(k, 50):13.1f}/{added(f, 50):<14.1f} | {added(k, 99):7.1f}/{added(f, 99):<7.1f} |"
                f" {k_cpu:12.1f}/{f_cpu:<13.1f} {k_cpu / f_cpu if f_cpu else float('nan'):6.2f}"
            )


def _cleanup(data_dir: Path, keep: bool) -> None:
    postmaster = _pid_process(data_dir / "postgres" / "postmaster.pid")
    redis = _pid_process(data_dir / "redis" / "redis.pid")
    for name, proc in (("PostgreSQL", postmaster), ("Redis", redis)):
        if proc is not None and proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
            # A server worker killed by uvicorn's supervisor may leave its holder entry behind, and then
            # nobody stops the servers: they live in our temporary directory, so stop them here.
            print(f"note: stopping embedded {name} (pid {proc.pid}) left running in {data_dir}")
            proc.terminate()
            try:
                proc.wait(30)
            except psutil.TimeoutExpired:
                print(f"warning: embedded {name} (pid {proc.pid}) did not stop; keeping {data_dir}")
                keep = True
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[50, 200])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per closed-loop level")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each level")
    parser.add_argument("--rate", type=float, default=TARGET_TTFT_RATE, help="open-loop msg/s (0: skip)")
    parser.add_argument("--rate-seconds", type=float, default=20.0)
    parser.add_argument(
        "--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1], help="e.g. 1,2: one run each"
    )
    parser.add_argument(
        "--before-src",
        default=None,
        help="A/B: also serve Kalamna from this src/ directory (e.g. an exported older commit), interleaved",
    )
    parser.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="skip the bare-Litestar floor (bench/floor_app.py)",
    )
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--noise-orgs", type=int, default=20)
    parser.add_argument("--noise-chunks", type=int, default=500)
    parser.add_argument("--llm-latency-ms", type=float, default=200.0, help="fake LLM time to first token")
    parser.add_argument("--token-delay-ms", type=float, default=10.0)
    parser.add_argument("--reply-words", type=int, default=20)
    parser.add_argument("--embedding-latency-ms", type=float, default=0.0)
    parser.add_argument("--baseline-n", type=int, default=30)
    parser.add_argument("--component-n", type=int, default=100)
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        help="extra KALAMNA_* for the server, e.g. DATABASE_POOL_SIZE=20",
    )
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--serve-fake-llm", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake_llm:
        latency, token_delay, embed_latency, words = args.serve_fake_llm.split(",")
        serve_fake_llm(float(latency), float(token_delay), float(embed_latency), int(words))
        return
    if args.before_src:
        args.before_src = str(Path(args.before_src).resolve())
    Bench(args).run()


if __name__ == "__main__":
    main()
