"""One exception layer: every error leaves as the contract's shape
``{"status_code", "code", "detail", "extra"?}`` and never with a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from kalamna.domain.errors import DomainError, RateLimited
from kalamna.web.outages import RETRY_AFTER_S, outage_kind

logger = logging.getLogger("kalamna.web")

DOMAIN_STATUS: dict[str, int] = {
    "validation_error": 422,
    "invalid_credentials": 401,
    "not_authenticated": 401,
    "token_expired": 401,
    "token_revoked": 401,
    "invalid_token": 400,
    "forbidden": 403,
    "email_not_verified": 403,
    "organization_suspended": 403,
    "account_disabled": 403,
    "not_found": 404,
    "conflict": 409,
    "email_taken": 409,
    "last_owner": 409,
    "session_closed": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "rate_limited": 429,
    "llm_unavailable": 503,
    "service_unavailable": 503,
}

_HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


class ApiError(HTTPException):
    """Raised by the edge itself (guards, parsers) with an explicit contract code."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        *,
        extra: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, extra=extra, headers=headers)
        self.code = code


def error_response(
    status_code: int, code: str, detail: str, extra: Any = None, headers: dict[str, str] | None = None
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"status_code": status_code, "code": code, "detail": detail}
    if extra not in (None, {}, []):
        body["extra"] = extra
    return Response(content=body, status_code=status_code, media_type=MediaType.JSON, headers=headers)


def _validation_extra(exc: ValidationException) -> Any:
    extra = exc.extra
    if isinstance(extra, list):
        fields = []
        for item in extra:
            if isinstance(item, dict):
                fields.append(
                    {k: v for k, v in item.items() if k in ("key", "message", "source") and v is not None}
                )
        return {"fields": fields} if fields else None
    return extra


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ApiError):
        return error_response(status, exc.code, exc.detail, exc.extra, headers)
    if isinstance(exc, ValidationException):
        detail = exc.detail or "Validation failed."
        if "malformed" in detail.lower() or ("json" in detail.lower() and not exc.extra):
            return error_response(400, "bad_request", "The request body is not valid JSON.", None, headers)
        return error_response(422, "validation_error", detail, _validation_extra(exc), headers)
    if isinstance(exc, NotFoundException):
        return error_response(404, "not_found", "Resource not found.", None, headers)
    if isinstance(exc, MethodNotAllowedException):
        return error_response(405, "method_not_allowed", exc.detail or "Method not allowed.", None, headers)
    code = _HTTP_CODES.get(status, "error" if status < 500 else "internal_error")
    detail = exc.detail if status < 500 else "An internal error occurred."
    return error_response(status, code, detail, exc.extra if status < 500 else None, headers)


def budget_headers(exc: DomainError) -> dict[str, str]:
    """X-RateLimit-* (and Retry-After once refused) for errors that carry an attempt budget."""
    headers: dict[str, str] = {}
    budget = getattr(exc, "budget", None)
    if budget is not None:
        limit, remaining, reset = budget
        headers |= {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, exc.retry_after_s))
    return headers


def handle_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    status = DOMAIN_STATUS.get(exc.code, 409)
    headers = budget_headers(exc)
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return error_response(status, exc.code, exc.detail, exc.extra, headers or None)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    kind = outage_kind(exc)
    if kind is not None:  # a database, Redis or disk outage: the client may retry, it is no bug
        logger.warning(
            "service unavailable (%s): %s: %s",
            kind,
            type(exc).__name__,
            exc,
            extra={"request_id": request.scope.get("state", {}).get("request_id")},
        )
        return error_response(
            503,
            "service_unavailable",
            "A service this request needs is unavailable; try again shortly.",
            None,
            {"Retry-After": str(RETRY_AFTER_S)},
        )
    logger.error(
        "unhandled error",
        exc_info=exc,
        extra={"request_id": request.scope.get("state", {}).get("request_id")},
    )
    return error_response(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "An internal error occurred.", None
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: handle_http_exception,
    DomainError: handle_domain_error,
    Exception: handle_unexpected,
}
