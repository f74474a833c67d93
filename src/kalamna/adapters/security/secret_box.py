"""AES-256-GCM for secrets that must be readable again (webhook signing secrets).

Sealed form: ``v1.<base64url(nonce[12] || ciphertext+tag)>``; the row's id is the associated data, so
a ciphertext copied onto another row does not open. The key is HKDF-SHA256 of the configured key
material (``KALAMNA_WEBHOOK_ENCRYPTION_KEY``, else the JWT secret).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


def derive_key(material: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"kalamna", info=b"kalamna/webhook-secrets/v1"
    ).derive(material.encode())


class AesGcmSecretBox:
    def __init__(self, key_material: str) -> None:
        if not key_material:
            raise ValueError("secret box key material is empty")
        self._aead = AESGCM(derive_key(key_material))

    def __repr__(self) -> str:  # never show the key
        return "AesGcmSecretBox(<key>)"

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}.{base64.urlsafe_b64encode(sealed).decode()}"

    def open(self, sealed: str, context: str) -> str:
        version, _, encoded = sealed.partition(".")
        if version != _VERSION:
            raise ValueError("unknown sealed-secret version")
        try:
            raw = base64.urlsafe_b64decode(encoded.encode())
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise ValueError("the secret cannot be opened with this key") from exc
