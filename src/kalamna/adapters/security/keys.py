"""Build the JWT key set from settings-level values (kept out of config.py to keep it dependency-free)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization

from kalamna.adapters.security.jwt_tokens import JwtKey


def _public_of(private_pem: bytes) -> object:
    private = serialization.load_pem_private_key(private_pem, password=None)
    return private.public_key()


def current_key(algorithm: str, kid: str, secret: str | None, private_key_file: Path | None) -> JwtKey:
    if algorithm.startswith("HS"):
        if not secret:
            raise ValueError("HS* algorithms need a secret")
        return JwtKey(kid=kid, algorithm=algorithm, signing_key=secret, verifying_key=secret)
    if private_key_file is None:
        raise ValueError(f"{algorithm} needs a private key file")
    pem = private_key_file.read_bytes()
    private = serialization.load_pem_private_key(pem, password=None)
    return JwtKey(kid=kid, algorithm=algorithm, signing_key=private, verifying_key=private.public_key())


def previous_keys(specs: list[str]) -> list[JwtKey]:
    """``kid=ALG:value`` where value is an HMAC secret or the path of a PEM (private or public) key."""
    keys: list[JwtKey] = []
    for spec in specs:
        kid, _, rest = spec.partition("=")
        algorithm, _, value = rest.partition(":")
        if not kid or not algorithm or not value:
            raise ValueError(f"bad JWT key spec {spec!r}; expected kid=ALG:value")
        if algorithm.startswith("HS"):
            keys.append(JwtKey(kid=kid, algorithm=algorithm, signing_key=None, verifying_key=value))
            continue
        pem = Path(value).read_bytes()
        verifying = serialization.load_pem_public_key(pem) if b"PUBLIC KEY" in pem else _public_of(pem)
        keys.append(JwtKey(kid=kid, algorithm=algorithm, signing_key=None, verifying_key=verifying))
    return keys
