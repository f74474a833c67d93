"""A real HTTP receiver on 127.0.0.1 for webhook tests (stdlib server in a background thread).

Scripted answers are consumed one per request: an int status, ``"hang"`` (never answers within the
sender's timeout), or ``("redirect", path)`` (302 to ``path`` on the same server). When the script
is empty it answers 200. Every request is recorded with its raw body.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    def __init__(
        self, script: list[Any] | None = None, hang_s: float = 5.0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.received: list[Received] = []
        self.script: deque[Any] = deque(script or [])
        self.hang_s = hang_s
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    action = receiver.script.popleft() if receiver.script else 200
                if action == "hang":
                    time.sleep(receiver.hang_s)
                    action = 200
                if isinstance(action, tuple) and action[0] == "redirect":
                    self.send_response(302)
                    self.send_header("Location", action[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                payload = b"x" * 200_000 if action == 299 else b"ok"
                self.send_response(int(action))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.received]
