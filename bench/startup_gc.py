"""CPU to import and build the app, with the garbage collector on and paused (kalamna.startup), each in
fresh processes. Run: `uv run python -m bench.startup_gc [--runs 5]`."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CHILD = """
import gc, sys, time
if sys.argv[1] == "paused":
    from kalamna.startup import pause_collector
    pause_collector()
started = time.process_time()
from kalamna.config import Settings
from kalamna.web.app import create_app, web_container
settings = Settings(
    env="test", data_dir="/tmp/kalamna-bench-startup",
    database_url="postgresql+asyncpg://bench@localhost/bench", redis_url="redis://localhost/0",
    jwt_secret="b" * 48, internal_token="i" * 48,
)
create_app(settings, web_container(settings))
built = time.process_time() - started
objects = len(gc.get_objects())
if sys.argv[1] == "paused":
    from kalamna.startup import resume_collector_after_startup
    resume_collector_after_startup()
print(built, time.process_time() - started, objects)
"""


def measure(mode: str) -> tuple[float, float, int]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    results: dict[str, list[tuple[float, float, int]]] = {"on": [], "paused": []}
    for _ in range(runs):  # interleaved, so that both modes meet the same machine
        for mode in results:
            results[mode].append(measure(mode))
    for mode, rows in results.items():
        built = statistics.median(row[0] for row in rows)
        total = statistics.median(row[1] for row in rows)
        print(
            f"collector {mode:<6} import + create_app {built * 1000:6.0f} ms CPU (median of {runs}),"
            f" with the resume (freeze) {total * 1000:6.0f} ms; {rows[0][2]:,} tracked objects"
        )


if __name__ == "__main__":
    main()
