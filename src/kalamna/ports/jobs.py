from __future__ import annotations

from typing import Any, Final, Protocol

# The background tasks, spelled once: producers enqueue these names, the SAQ adapter keys its
# options by them and the worker registers a function of the same name for each
# (tests/unit/test_job_names.py checks that both sides agree).
DELIVER_EMAIL: Final = "deliver_email"
REQUEUE_UNSENT_MAIL: Final = "requeue_unsent_mail"
REQUEST_PASSWORD_RESET: Final = "request_password_reset"
RESEND_VERIFICATION: Final = "resend_verification"
NOTIFY_WAITING_STAFF: Final = "notify_waiting_staff"
INGEST_ENTRY: Final = "ingest_entry"
RECONCILE_INGESTION: Final = "reconcile_ingestion"
DELIVER_WEBHOOK: Final = "deliver_webhook"
REQUEUE_WEBHOOK_DELIVERIES: Final = "requeue_webhook_deliveries"
TENANT_VECTOR_INDEXES: Final = "tenant_vector_indexes"

TASK_NAMES: Final = frozenset(
    {
        DELIVER_EMAIL,
        REQUEUE_UNSENT_MAIL,
        REQUEST_PASSWORD_RESET,
        RESEND_VERIFICATION,
        NOTIFY_WAITING_STAFF,
        INGEST_ENTRY,
        RECONCILE_INGESTION,
        DELIVER_WEBHOOK,
        REQUEUE_WEBHOOK_DELIVERIES,
        TENANT_VECTOR_INDEXES,
    }
)


class JobQueue(Protocol):
    """Queues background work. Jobs carry only JSON-safe ids and values.

    ``key`` makes enqueueing idempotent: a second job with the same key while the first is queued
    or running (or waiting for a retry) is not added again. Returns whether a job was added.
    """

    async def enqueue(self, task: str, *, key: str | None = None, **kwargs: Any) -> bool: ...
