"""Webhooks: subscriptions, signed deliveries with retries, and which target addresses are allowed.

Pure rules only: the signature (Stripe-style ``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``), the
retry schedule, URL checks and the private-address test. Resolving names and sending requests are
adapters' work (``ports.webhooks``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit
from uuid import UUID

from kalamna.domain.errors import InvalidInput

SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 500
MAX_ERROR_LENGTH = 500
SIGNATURE_HEADER = "Kalamna-Signature"
EVENT_HEADER = "Kalamna-Event"
DELIVERY_HEADER = "Kalamna-Delivery"


class WebhookEvent(StrEnum):
    CONVERSATION_WAITING = "conversation.waiting"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    CONVERSATION_CLOSED = "conversation.closed"
    MESSAGE_CREATED = "message.created"
    FEEDBACK_CREATED = "feedback.created"
    KNOWLEDGE_ENTRY_READY = "knowledge.entry_ready"
    KNOWLEDGE_ENTRY_FAILED = "knowledge.entry_failed"
    PING = "ping"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def parse_events(values: list[str]) -> tuple[WebhookEvent, ...]:
    """Known event names, each once, in the order given; unknown names are a 422."""
    if not values:
        raise InvalidInput(
            "Subscribe to at least one event.", extra={"fields": [{"key": "events", "message": "empty"}]}
        )
    known = {e.value for e in WebhookEvent}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise InvalidInput(
            f"Unknown event: {unknown[0]}.",
            extra={"fields": [{"key": "events", "message": f"one of {', '.join(sorted(known))}"}]},
        )
    return tuple(dict.fromkeys(WebhookEvent(v) for v in values))


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials in it."""
    url = url.strip()
    problem = None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port, problem = None, None, "not a valid URL"
    if problem is None and parts is not None:
        if len(url) > MAX_URL_LENGTH:
            problem = f"at most {MAX_URL_LENGTH} characters"
        elif parts.scheme not in ("http", "https"):
            problem = "must start with http:// or https://"
        elif not parts.hostname:
            problem = "must name a host"
        elif parts.username is not None or parts.password is not None:
            problem = "must not carry a user name or password"
        elif port == 0:
            problem = "port must be 1-65535"
    if problem is not None:
        raise InvalidInput(
            f"The webhook URL {problem}.", extra={"fields": [{"key": "url", "message": problem}]}
        )
    return url


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_forbidden_address(address: IPAddress) -> bool:
    """True for anything that is not a public unicast address: private, loopback, link-local,
    multicast, reserved, unspecified, shared (CGNAT), documentation ranges — also when an IPv4
    address hides inside an IPv6 one (IPv4-mapped, 6to4, NAT64)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
            return is_forbidden_address(address.ipv4_mapped)
        embedded = address.sixtofour
        if embedded is None and address in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and is_forbidden_address(embedded):
            return True
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Kalamna-Signature`` header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Attempt 1 is immediate; attempt n+1 follows attempt n after ``base_s * factor**(n-1)``.

    Defaults: 6 attempts, 30 s x 4^n: 30 s, 2 min, 8 min, 32 min, 2 h 8 min (2 h 50 min in all).
    """

    max_attempts: int = 6
    base_s: float = 30.0
    factor: float = 4.0

    def delay_after(self, attempts: int) -> float | None:
        """Seconds to wait after ``attempts`` failed attempts, or None when none are left."""
        if attempts >= self.max_attempts:
            return None
        return self.base_s * self.factor ** (attempts - 1)


@dataclass(frozen=True, slots=True)
class Webhook:
    id: UUID
    organization_id: UUID
    url: str
    events: tuple[WebhookEvent, ...]
    description: str | None
    active: bool
    encrypted_secret: str
    created_at: datetime

    def wants(self, event: WebhookEvent) -> bool:
        return self.active and (event is WebhookEvent.PING or event in self.events)


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one POST got: the HTTP status (None when no response came) and a short error."""

    response_status: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300


@dataclass(slots=True)
class Delivery:
    id: UUID
    organization_id: UUID
    webhook_id: UUID
    event: WebhookEvent
    body: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    # When the next attempt is due; None once settled. The sweeper re-queues pending deliveries
    # whose attempt is long overdue (its job was lost, e.g. Redis was down when it was scheduled).
    next_attempt_at: datetime | None = None

    def record(self, result: AttemptResult, now: datetime, schedule: RetrySchedule) -> float | None:
        """Record one attempt; returns the delay before the next one, or None when it is settled."""
        self.attempts += 1
        self.last_attempt_at = now
        self.response_status = result.response_status
        self.error = (result.error or "")[:MAX_ERROR_LENGTH] or None
        if result.succeeded:
            self.status = DeliveryStatus.SUCCEEDED
            self.error = None
            self.next_attempt_at = None
            return None
        delay = schedule.delay_after(self.attempts)
        if delay is None:
            self.status = DeliveryStatus.FAILED
            self.next_attempt_at = None
        else:
            self.next_attempt_at = now + timedelta(seconds=delay)
        return delay

    def give_up(self, reason: str, now: datetime) -> None:
        self.status = DeliveryStatus.FAILED
        self.error = reason[:MAX_ERROR_LENGTH]
        self.last_attempt_at = now
        self.next_attempt_at = None
