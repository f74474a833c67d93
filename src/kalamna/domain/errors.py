"""Domain errors. Each carries the stable ``code`` word of the REST contract; the web edge maps
the class to an HTTP status, so the core never speaks HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "conflict"
    default_detail = "The request conflicts with the current state."

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra
        super().__init__(self.detail)


class NotFound(DomainError):
    code = "not_found"
    default_detail = "Resource not found."


class Conflict(DomainError):
    code = "conflict"


class InvalidInput(DomainError):
    code = "validation_error"
    default_detail = "Validation failed."


class DependencyUnavailable(DomainError):
    """A backing service the operation needs is down; callers answer 503, never 500."""

    code = "service_unavailable"
    default_detail = "A required service is unavailable."


class LlmUnavailable(DomainError):
    """The language model could not be reached (after retries)."""

    code = "llm_unavailable"
    default_detail = "The answer service is unavailable; your message was kept."


class EmbedderUnavailable(DependencyUnavailable):
    default_detail = "The embedding service is unavailable."


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    default_detail = "The upload is too large."


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    default_detail = "This file type is not supported."


class UnreadableDocument(InvalidInput):
    """The file has a supported type but no text could be extracted (empty, corrupt, hostile)."""

    default_detail = "The document is empty or could not be read."
