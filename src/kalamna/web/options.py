"""``OPTIONS`` answers with the complete ``Allow`` header of its path.

Litestar answers ``OPTIONS`` per route handler group, so a path served by more than one group (e.g.
``GET``/``PUT`` and ``PATCH`` of ``/orgs/{org_id}``) listed only some of its methods. This middleware
answers from the union of every route on the path. CORS preflights are left to the CORS middleware.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

_PARAM = re.compile(r"\{[^}]+\}")


def allow_map(routes: Iterable[Any]) -> list[tuple[re.Pattern[str], str]]:
    methods: dict[str, set[str]] = {}
    for route in routes:
        route_methods = getattr(route, "methods", None)
        if not route_methods:
            continue
        pattern = (
            "^" + _PARAM.sub("[^/]+", re.escape(route.path).replace(r"\{", "{").replace(r"\}", "}")) + "/?$"
        )
        methods.setdefault(pattern, set()).update(m.upper() for m in route_methods)
    return [
        (re.compile(pattern), ", ".join(sorted(found | {"OPTIONS"})))
        for pattern, found in methods.items()
        if found - {"OPTIONS", "HEAD"}
    ]


def options_middleware(app: ASGIApp, table: list[tuple[re.Pattern[str], str]]) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "OPTIONS":  # type: ignore[comparison-overlap]
            preflight = any(key == b"access-control-request-method" for key, _ in scope["headers"])
            if not preflight:
                path = scope["path"]
                for pattern, allow in table:
                    if pattern.match(path):
                        start: Any = {
                            "type": "http.response.start",
                            "status": 204,
                            "headers": [(b"allow", allow.encode())],
                        }
                        await send(start)
                        end: Any = {"type": "http.response.body", "body": b""}
                        await send(end)
                        return
        await app(scope, receive, send)

    return middleware
