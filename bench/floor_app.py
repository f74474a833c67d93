"""The framework floor for ``bench/chat_load.py``: a bare Litestar app that streams the fake LLM's
reply through the same OpenAI client adapter and the same uvicorn setup as ``kalamna serve``, with
none of Kalamna's work (no database, Redis, API key, session, rate limit, embedding, retrieval,
prompt building or reply storage). It speaks the widget's wire format (session start, SSE ``delta``
events, a final ``done`` event with a reply id), so the load generator drives it unchanged.

Run by the benchmark: ``python -m bench.floor_app --port P --workers N`` with
``BENCH_FLOOR_LLM_URL`` set to the fake LLM's ``/v1`` URL.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar import Litestar


def app_factory() -> Litestar:
    # Imported here: the uvicorn supervisor and every spawned worker import this module first.
    from bench._floor import create_floor_app

    return create_floor_app()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(  # the same options as `kalamna serve` (kalamna.cli.cmd_serve)
        "bench.floor_app:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
