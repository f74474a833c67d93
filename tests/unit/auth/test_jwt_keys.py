"""Asymmetric signing and key rotation: the algorithm comes from our key set, looked up by kid."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kalamna.adapters.security.jwt_tokens import JwtAccessTokenIssuer
from kalamna.adapters.security.keys import current_key, previous_keys
from kalamna.domain.errors import NotAuthenticated, TokenExpired


def write_ed25519(path: Path) -> Path:
    key = ed25519.Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def test_eddsa_tokens_verify_and_rotated_keys_keep_verifying(tmp_path: Path) -> None:
    old_file = write_ed25519(tmp_path / "old.pem")
    new_file = write_ed25519(tmp_path / "new.pem")
    old_issuer = JwtAccessTokenIssuer(
        current=current_key("EdDSA", "2026-01", None, old_file), issuer="kalamna", audience="kalamna-api"
    )
    token = old_issuer.issue(uuid.uuid4(), None, "superuser").token
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"

    rotated = JwtAccessTokenIssuer(
        current=current_key("EdDSA", "2026-02", None, new_file),
        previous=previous_keys([f"2026-01=EdDSA:{old_file}"]),
        issuer="kalamna",
        audience="kalamna-api",
    )
    assert rotated.verify(token).role == "superuser"
    assert jwt.get_unverified_header(rotated.issue(uuid.uuid4(), None, "staff").token)["kid"] == "2026-02"

    without_old = JwtAccessTokenIssuer(
        current=current_key("EdDSA", "2026-02", None, new_file), issuer="kalamna", audience="kalamna-api"
    )
    with pytest.raises(NotAuthenticated):
        without_old.verify(token)


def hs256_by_hand(claims: dict, key: bytes) -> str:  # type: ignore[type-arg]
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
        + "."
        + b64(json.dumps(claims).encode())
    )
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def test_algorithm_confusion_is_refused(tmp_path: Path) -> None:
    key_file = write_ed25519(tmp_path / "k.pem")
    issuer = JwtAccessTokenIssuer(
        current=current_key("EdDSA", "k1", None, key_file), issuer="kalamna", audience="kalamna-api"
    )
    genuine = jwt.decode(issuer.issue(uuid.uuid4(), None, "owner").token, options={"verify_signature": False})
    public_pem = key_file.read_bytes()  # an attacker who knows the public key tries HS256 with it
    forged = hs256_by_hand(genuine, public_pem)  # PyJWT itself refuses to do this

    with pytest.raises(NotAuthenticated):
        issuer.verify(forged)


def test_expired_is_distinguished(tmp_path: Path) -> None:
    issuer = JwtAccessTokenIssuer(
        current=current_key("HS256", "k1", "s" * 48, None),
        issuer="kalamna",
        audience="kalamna-api",
        lifetime_s=-60,
    )
    with pytest.raises(TokenExpired):
        issuer.verify(issuer.issue(uuid.uuid4(), None, "owner").token)
