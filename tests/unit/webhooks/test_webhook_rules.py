"""Webhook rules: forbidden addresses, the signature, the retry schedule, URL checks, sealed secrets."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from kalamna.adapters.security.secret_box import AesGcmSecretBox
from kalamna.domain.errors import InvalidInput
from kalamna.domain.webhooks import (
    AttemptResult,
    Delivery,
    DeliveryStatus,
    RetrySchedule,
    WebhookEvent,
    check_url,
    is_forbidden_address,
    parse_events,
    sign,
)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "240.0.0.1",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
        "2001:db8::1",
    ],
)
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address)) is True


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address)) is False


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"id":"1","type":"ping"}'
    header = sign("whsec_abc", 1_700_000_000, body)
    expected = hmac.new(b"whsec_abc", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_default_schedule_spans_more_than_an_hour_in_at_least_five_attempts() -> None:
    schedule = RetrySchedule()
    delays = [schedule.delay_after(n) for n in range(1, schedule.max_attempts)]
    assert delays == [30.0, 120.0, 480.0, 1920.0, 7680.0]
    assert schedule.delay_after(schedule.max_attempts) is None
    assert schedule.max_attempts >= 5 and sum(d for d in delays if d) >= 3600


def _delivery() -> Delivery:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Delivery(
        uuid4(), uuid4(), uuid4(), WebhookEvent.PING, "{}", DeliveryStatus.PENDING, 0, None, None, now, None
    )


def test_delivery_records_attempts_until_the_last() -> None:
    delivery = _delivery()
    schedule = RetrySchedule(max_attempts=2, base_s=1, factor=2)
    now = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert delivery.record(AttemptResult(500, "HTTP 500"), now, schedule) == 1
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.record(AttemptResult(None, "timed out"), now, schedule) is None
    assert delivery.status is DeliveryStatus.FAILED and delivery.error == "timed out"
    ok = _delivery()
    assert ok.record(AttemptResult(204, None), now, schedule) is None
    assert ok.status is DeliveryStatus.SUCCEEDED and ok.response_status == 204 and ok.last_attempt_at == now


@pytest.mark.parametrize(
    "url", ["ftp://x.test/", "http://", "https://u:p@x.test/", "x.test/hook", "http://x.test:0/", "h" * 2001]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url)


def test_events_are_known_and_deduplicated() -> None:
    assert parse_events(["ping", "feedback.created", "ping"]) == (
        WebhookEvent.PING,
        WebhookEvent.FEEDBACK_CREATED,
    )
    with pytest.raises(InvalidInput):
        parse_events(["nope"])
    with pytest.raises(InvalidInput):
        parse_events([])


def test_secret_box_round_trip_and_binding() -> None:
    box = AesGcmSecretBox("key material " * 4)
    sealed = box.seal("whsec_secret", "row-1")
    assert sealed.startswith("v1.") and "whsec_secret" not in sealed
    assert box.open(sealed, "row-1") == "whsec_secret"
    assert box.seal("whsec_secret", "row-1") != sealed  # fresh nonce every time
    with pytest.raises(ValueError):
        box.open(sealed, "row-2")  # bound to its row
    with pytest.raises(ValueError):
        AesGcmSecretBox("another key").open(sealed, "row-1")
    with pytest.raises(ValueError):
        box.open("v1.!!!", "row-1")
    assert "key material" not in repr(box)
