from __future__ import annotations

import hashlib
import secrets


class RandomSecretTokens:
    """256-bit URL-safe secrets, stored only as SHA-256 (they are high-entropy: no salt or KDF needed)."""

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix

    def new(self) -> str:
        return self._prefix + secrets.token_urlsafe(32)

    def digest(self, token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()
