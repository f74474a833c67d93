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


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    default_detail = "The email or password is incorrect."
    #: (limit, remaining, reset_after_s) of the failed-attempt budget this failure was counted in.
    budget: tuple[int, int, int] | None = None


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    default_detail = "Authentication is required."


class TokenExpired(DomainError):
    code = "token_expired"
    default_detail = "The token has expired."


class TokenRevoked(DomainError):
    code = "token_revoked"
    default_detail = "The token has been revoked."


class InvalidToken(DomainError):
    """A one-time token (verification, reset, invitation) that is unknown, used, expired or revoked."""

    code = "invalid_token"
    default_detail = "The link is invalid or has expired."


class Forbidden(DomainError):
    code = "forbidden"
    default_detail = "You do not have permission to do this."


class EmailNotVerified(DomainError):
    code = "email_not_verified"
    default_detail = "Verify your email address before signing in."


class OrganizationSuspended(DomainError):
    code = "organization_suspended"
    default_detail = "This organization is suspended."


class AccountDisabled(DomainError):
    code = "account_disabled"
    default_detail = "This account is disabled."


class EmailTaken(DomainError):
    code = "email_taken"
    default_detail = "An account with this email already exists."


class RateLimited(DomainError):
    code = "rate_limited"
    default_detail = "Too many requests; try again later."

    def __init__(
        self, retry_after_s: int, detail: str | None = None, *, budget: tuple[int, int, int] | None = None
    ) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s
        #: (limit, remaining, reset_after_s), sent as X-RateLimit-* headers
        self.budget = budget


class LastOwner(DomainError):
    code = "last_owner"
    default_detail = "The organization must keep at least one active owner."
