"""Input rules applied once, before any handler sees the request.

- **Control characters.** U+0000 and the other C0 controls (tab, newline and carriage return
  excepted) have no business in any text the API accepts, and PostgreSQL refuses NUL in text
  outright. Every JSON body (keys and string values, at any depth), every query-string parameter
  and every multipart text field (``check_text_fields``) is checked here; a hit is
  ``422 validation_error`` naming the field.
- **Repeated query parameters.** No operation takes a list in its query string, so a parameter given
  twice (``?to=a&to=b``) is ``422 validation_error`` naming it, rather than one of the values being
  picked silently (found by the fuzzing gate).
- **Nesting.** JSON nested deeper than ``MAX_DEPTH`` is ``400 bad_request`` (a 100,000-deep array
  used to overflow the decoder's recursion and answer 500).
- **Paths.** Repeated slashes are collapsed (``//api/v1/chat`` → ``/api/v1/chat``) before routing,
  CORS and rate limiting see the path, so no check keyed on a path prefix can be side-stepped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

MAX_DEPTH = 32
# Bodies above this are not inspected here; the handlers' own size limits refuse them.
MAX_INSPECTED_BYTES = 16 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SLASHES = re.compile(r"/{2,}")
CONTROL_MESSAGE = "Control characters (such as U+0000) are not allowed."
REPEATED_MESSAGE = "A query parameter may be given only once."


class InputRefused(Exception):
    def __init__(self, status: int, code: str, detail: str, fields: list[dict[str, str]] | None = None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.fields = fields


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def check_text_fields(fields: Mapping[str, Any] | Iterable[tuple[str, Any]], source: str) -> None:
    """Refuse control characters in text fields (multipart forms, query parameters)."""
    items = fields.items() if isinstance(fields, Mapping) else fields
    bad = [
        {"key": str(key), "source": source, "message": CONTROL_MESSAGE}
        for key, value in items
        if (isinstance(value, str) and has_control(value)) or has_control(str(key))
    ]
    if bad:
        raise InputRefused(422, "validation_error", CONTROL_MESSAGE, bad)


def check_query_once(fields: list[tuple[str, str]]) -> None:
    """Refuse a query string that names a parameter more than once."""
    repeated = sorted(key for key, count in Counter(key for key, _ in fields).items() if count > 1)
    if repeated:
        bad = [{"key": key, "source": "query", "message": REPEATED_MESSAGE} for key in repeated]
        raise InputRefused(422, "validation_error", REPEATED_MESSAGE, bad)


def check_json(raw: bytes) -> None:
    """Decode untyped and walk every string; malformed JSON is left to the handler (400)."""
    if not raw.strip():
        return
    try:
        value = msgspec.json.decode(raw)
    except RecursionError as exc:
        raise InputRefused(400, "bad_request", "The JSON body is nested too deeply.") from exc
    except msgspec.DecodeError:
        return
    bad: list[dict[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputRefused(400, "bad_request", "The JSON body is nested too deeply.")
        if isinstance(item, str):
            if has_control(item):
                bad.append({"key": path or "body", "source": "body", "message": CONTROL_MESSAGE})
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if has_control(str(key)):
                    bad.append({"key": child_path, "source": "body", "message": CONTROL_MESSAGE})
                stack.append((child, child_path, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
    if bad:
        raise InputRefused(422, "validation_error", CONTROL_MESSAGE, sorted(bad, key=lambda f: f["key"]))


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def send_error(
    send: Send, status: int, code: str, detail: str, fields: list[dict[str, str]] | None
) -> None:
    body: dict[str, Any] = {"status_code": status, "code": code, "detail": detail}
    if fields:
        body["extra"] = {"fields": fields}
    payload = msgspec.json.encode(body)
    start: Any = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
    }
    await send(start)
    end: Any = {"type": "http.response.body", "body": payload}
    await send(end)


def input_guard_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        try:
            query = scope.get("query_string", b"").decode("latin-1")
            if query:
                fields = parse_qsl(query, keep_blank_values=True)
                check_text_fields(fields, "query")
                check_query_once(fields)
            content_type = _header(scope, b"content-type").lower()
            if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE") or content_type.startswith(
                ("multipart/", "application/x-www-form-urlencoded")
            ):
                await app(scope, receive, send)
                return
            chunks, complete = await _buffer(receive)
            if complete:
                check_json(b"".join(chunks))
        except InputRefused as refused:
            await send_error(send, refused.status, refused.code, refused.detail, refused.fields)
            return
        await app(scope, _replay(chunks, complete, receive), send)

    return middleware


async def _buffer(receive: Receive) -> tuple[list[bytes], bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            chunks.append(b"")
            return chunks, False
        body = message.get("body", b"")
        chunks.append(body)
        size += len(body)
        if not message.get("more_body", False):
            return chunks, True
        if size > MAX_INSPECTED_BYTES:
            return chunks, False


def _replay(chunks: list[bytes], complete: bool, receive: Receive) -> Receive:
    pending = list(chunks)

    async def replay() -> Any:
        if pending:
            body = pending.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(pending) or not complete}
        return await receive()

    return replay


def normalise_path_middleware(app: ASGIApp) -> ASGIApp:
    """Collapse repeated slashes once, for everything downstream (routing, CORS, rate limits)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and "//" in scope.get("path", ""):
            changed: Any = {**scope, "path": _SLASHES.sub("/", scope["path"])}
            raw = scope.get("raw_path")
            if raw:
                changed["raw_path"] = _SLASHES.sub("/", raw.decode("latin-1")).encode("latin-1")
            scope = changed
        await app(scope, receive, send)

    return middleware
