"""The HTTP sender against a real local receiver: the address is checked again at delivery time."""

from __future__ import annotations

import pytest

from kalamna.adapters.webhooks.http import MAX_RESPONSE_BYTES, HttpxWebhookSender, ResolvingTargetGuard
from kalamna.domain.errors import InvalidInput
from tests.fakes.webhook_receiver import WebhookReceiver


async def test_delivery_refuses_a_private_target_even_if_it_was_accepted_before() -> None:
    with WebhookReceiver() as receiver:
        await ResolvingTargetGuard(allow_private=True).check(receiver.url)  # e.g. DNS changed since
        sender = HttpxWebhookSender(timeout_s=2, allow_private=False)
        try:
            for url in (receiver.url, f"http://localhost:{receiver.port}/hook"):
                result = await sender.post(url, b"{}", {"Content-Type": "application/json"})
                assert result.response_status is None and not result.succeeded
                assert result.error is not None and result.error.startswith("refused:")
        finally:
            await sender.aclose()
        assert receiver.received == []


async def test_sender_connects_to_the_checked_address_with_the_original_host() -> None:
    with WebhookReceiver(script=[299]) as receiver:
        sender = HttpxWebhookSender(timeout_s=2, allow_private=True)
        try:
            result = await sender.post(f"http://localhost:{receiver.port}/hook?a=1", b"{}", {"X-Test": "1"})
        finally:
            await sender.aclose()
    assert result.succeeded and result.response_status == 299  # a 200 KB answer, read to 64 KiB only
    assert MAX_RESPONSE_BYTES == 65536
    (request,) = receiver.received
    assert request.path == "/hook?a=1"
    assert request.headers["Host"] == f"localhost:{receiver.port}"
    assert request.headers["X-Test"] == "1"


async def test_guard_messages() -> None:
    guard = ResolvingTargetGuard(allow_private=False)
    with pytest.raises(InvalidInput) as refused:
        await guard.check("http://[::ffff:127.0.0.1]:8080/x")
    assert refused.value.extra == {
        "fields": [
            {
                "key": "url",
                "message": "the host resolves to a private, loopback, link-local or reserved address",
            }
        ]
    }
