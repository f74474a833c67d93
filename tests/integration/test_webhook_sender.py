"""The HTTP sender against a real local receiver: the address is checked again at delivery time."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


def _certificate_for_localhost(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate valid for the name ``localhost`` only (not for 127.0.0.1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def test_https_keeps_the_host_name_for_sni_and_certificate_checks(tmp_path: Path) -> None:
    cert, key = _certificate_for_localhost(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    seen_sni: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, ctx: seen_sni.append(name)  # type: ignore[assignment,func-returns-value]
    client_tls = ssl.create_default_context(cafile=str(cert))
    with WebhookReceiver(tls=server_tls) as receiver:
        sender = HttpxWebhookSender(timeout_s=5, allow_private=True, verify=client_tls)
        try:
            # The sender connects to 127.0.0.1 but verifies the certificate for "localhost".
            ok = await sender.post(f"https://localhost:{receiver.port}/hook", b"{}", {})
            # The certificate does not name 127.0.0.1: addressing the IP itself must fail verification.
            bad = await sender.post(f"https://127.0.0.1:{receiver.port}/hook", b"{}", {})
        finally:
            await sender.aclose()
    assert ok.succeeded and ok.response_status == 200, ok
    assert seen_sni[0] == "localhost"
    assert bad.response_status is None and bad.error is not None
    assert [r.headers["Host"] for r in receiver.received] == [f"localhost:{receiver.port}"]
