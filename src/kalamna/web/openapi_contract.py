"""The published OpenAPI document, completed as a contract clients can trust.

Litestar generates paths and schemas from the handlers; this module adds what it cannot know:
the security scheme of every operation (so Swagger has an Authorize button), the documented error
responses with the contract's error schema, ``additionalProperties: false`` on request bodies (they
are decoded with ``forbid_unknown_fields``), and both bodies of knowledge-entry creation. The
schema is built on first use, adjusted in place, and cached by Litestar's OpenAPI plugin.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin

from kalamna.domain import limits

PREFIX = "/api/v1"
ERROR_REF = {"$ref": "#/components/schemas/Error"}

SECURITY_SCHEMES: dict[str, Any] = {
    "BearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "SessionToken": {"type": "apiKey", "in": "header", "name": "X-Session-Token"},
    "InternalToken": {"type": "apiKey", "in": "header", "name": "X-Internal-Token"},
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status_code", "code", "detail"],
    "properties": {
        "status_code": {"type": "integer"},
        "code": {"type": "string", "description": "the contract's code word, e.g. validation_error"},
        "detail": {"type": "string"},
        "extra": {"type": "object"},
    },
}

_DESCRIPTIONS = {
    "400": "Malformed request (bad JSON, JSON nested too deeply, or an invalid link token)",
    "401": "Missing, invalid, expired or revoked credentials",
    "403": "Not allowed (role, organization suspended, account disabled, email not verified)",
    "404": "Not found (or not visible to this caller)",
    "409": "Conflicts with the current state",
    "413": "Payload too large",
    "415": "Unsupported media type",
    "422": "Validation failed (including control characters in any text)",
    "429": "Rate limited; see Retry-After",
    "503": "A required service is unavailable; try again",
}

_PUBLIC = re.compile(
    rf"^{PREFIX}/(health|auth/(register|login|refresh|verify/\{{token\}}|verify/resend|password/forgot"
    rf"|password/reset|password/reset/verify/\{{token\}}|invitations/verify/\{{token\}}"
    rf"|invitations/\{{token\}}/accept))$"
)
_RATE_LIMITED = re.compile(
    rf"^{PREFIX}/(auth/(register|login|password/forgot|verify/resend|password/change)|chat/.*)$"
)
_METHODS = ("get", "post", "put", "patch", "delete")


def security_for(path: str) -> list[dict[str, list[str]]]:
    if _PUBLIC.match(path) or not path.startswith(f"{PREFIX}/"):  # pages: /widget.js, /demo, ...
        return []
    if path.startswith(f"{PREFIX}/internal/"):
        return [{"InternalToken": []}, {"BearerAuth": []}]
    if path in (f"{PREFIX}/chat/config", f"{PREFIX}/chat/sessions"):
        return [{"ApiKeyAuth": []}]
    if path.endswith("/feedback"):
        return [{"ApiKeyAuth": [], "SessionToken": []}, {"SessionToken": []}]
    if path.startswith(f"{PREFIX}/chat/"):
        return [{"ApiKeyAuth": [], "SessionToken": []}]
    return [{"BearerAuth": []}]


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    codes = {"400", "422", "503"}
    secured = bool(security_for(path))
    has_body = "requestBody" in operation
    if secured or path.endswith(("/login", "/refresh", "/accept")):
        codes |= {"401", "403"}
    if secured or "{" in path:
        codes.add("404")
    if method != "get" and (secured or path.endswith(("/register", "/accept"))):
        codes.add("409")
    if has_body:
        codes |= {"413", "415"}
    if _RATE_LIMITED.match(path):
        codes.add("429")
    if path == f"{PREFIX}/health":
        codes = {"503"}
    return codes


def _knowledge_bodies() -> dict[str, Any]:
    title = {"type": "string", "minLength": 1, "maxLength": limits.KNOWLEDGE_TITLE_MAX}
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["title", "content"],
                    "properties": {
                        "title": title,
                        "content": {"type": "string", "minLength": 1, "maxLength": 2_000_000},
                    },
                    "additionalProperties": False,
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "PDF, DOCX, HTML or text, at most 10 MiB",
                        },
                        "title": {"type": "string", "maxLength": limits.KNOWLEDGE_TITLE_MAX},
                    },
                }
            },
        },
    }


def _close_objects(schema: dict[str, Any], components: dict[str, Any], seen: set[str]) -> None:
    """``additionalProperties: false`` on every object schema reachable from a request body."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen and name in components:
            seen.add(name)
            _close_objects(components[name], components, seen)
        return
    if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    for key in ("properties",):
        for child in (schema.get(key) or {}).values():
            if isinstance(child, dict):
                _close_objects(child, components, seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for child in schema.get(key) or []:
            if isinstance(child, dict):
                _close_objects(child, components, seen)
    items = schema.get("items")
    if isinstance(items, dict):
        _close_objects(items, components, seen)


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    seen: set[str] = set()
    for path, item in schema.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            operation["security"] = security_for(path)
            if method == "post" and path == f"{PREFIX}/orgs/{{org_id}}/knowledge-bases":
                operation["requestBody"] = _knowledge_bodies()
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                if isinstance(media.get("schema"), dict):
                    _close_objects(media["schema"], schemas, seen)
            responses = operation.setdefault("responses", {})
            for code in sorted(error_statuses(path, method, operation)):
                responses[code] = {
                    "description": _DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": ERROR_REF}},
                }
    return schema


class _CompletedOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's plugin, serving the completed document. It is built on the first request for it,
    not with the app: building it costs ~0.12 s of CPU, which every process start and every test
    app paid even though few of them ever serve ``/schema``."""

    __slots__ = ()

    def provide_openapi_schema(self) -> dict[str, Any]:
        if not self._openapi_schema:
            self._openapi_schema = complete(self.provide_openapi().to_schema())
        return self._openapi_schema


def install(app: Litestar) -> None:
    """Let Litestar serve the completed schema (built on first use, then cached)."""
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _CompletedOpenAPIPlugin
