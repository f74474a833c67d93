"""Access JWTs. The algorithm comes from our key set (looked up by ``kid``), never from the token, and
``iss``, ``aud``, ``exp``, ``iat``, ``typ`` and ``jti`` are required and checked."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from kalamna.domain.errors import NotAuthenticated, TokenExpired
from kalamna.ports.security import AccessClaims, IssuedAccessToken

ACCESS_TYPE = "access"
_ALLOWED_ALGORITHMS = {"HS256", "HS384", "HS512", "EdDSA", "RS256", "ES256"}


@dataclass(frozen=True, slots=True)
class JwtKey:
    kid: str
    algorithm: str
    signing_key: Any | None  # secret or private key; None for verify-only (rotated-out) keys
    verifying_key: Any

    def __post_init__(self) -> None:
        if self.algorithm not in _ALLOWED_ALGORITHMS:
            raise ValueError(f"unsupported JWT algorithm {self.algorithm!r}")


class JwtAccessTokenIssuer:
    def __init__(
        self,
        *,
        current: JwtKey,
        previous: list[JwtKey] | None = None,
        issuer: str,
        audience: str,
        lifetime_s: int = 900,
    ) -> None:
        if current.signing_key is None:
            raise ValueError("the current JWT key must be able to sign")
        self._current = current
        self._signing_key: Any = current.signing_key
        self._keys = {key.kid: key for key in [current, *(previous or [])]}
        self._issuer = issuer
        self._audience = audience
        self._lifetime_s = lifetime_s

    @property
    def lifetime_s(self) -> int:
        return self._lifetime_s

    def issue(self, subject: uuid.UUID, organization_id: uuid.UUID | None, role: str) -> IssuedAccessToken:
        now = round(time.time(), 3)
        claims = AccessClaims(
            subject=subject,
            organization_id=organization_id,
            role=role,
            jti=uuid.uuid4().hex,
            issued_at=now,
            expires_at=int(now) + self._lifetime_s,
        )
        payload = {
            "sub": str(subject),
            "org": str(organization_id) if organization_id else None,
            "role": role,
            "jti": claims.jti,
            "iat": claims.issued_at,
            "exp": int(claims.expires_at),
            "iss": self._issuer,
            "aud": self._audience,
            "typ": ACCESS_TYPE,
        }
        token = jwt.encode(
            payload,
            self._signing_key,
            algorithm=self._current.algorithm,
            headers={"kid": self._current.kid, "typ": "JWT"},
        )
        return IssuedAccessToken(token=token, claims=claims)

    def verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise NotAuthenticated("The access token is malformed.") from exc
        key = self._keys.get(str(header.get("kid", "")))
        if key is None or header.get("alg") != key.algorithm:
            raise NotAuthenticated("The access token is not valid.")
        try:
            payload = jwt.decode(
                token,
                key.verifying_key,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti", "typ"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("The access token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise NotAuthenticated("The access token is not valid.") from exc
        if payload.get("typ") != ACCESS_TYPE:
            raise NotAuthenticated("This is not an access token.")
        try:
            org = payload.get("org")
            return AccessClaims(
                subject=uuid.UUID(payload["sub"]),
                organization_id=uuid.UUID(org) if org else None,
                role=str(payload["role"]),
                jti=str(payload["jti"]),
                issued_at=float(payload["iat"]),
                expires_at=float(payload["exp"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise NotAuthenticated("The access token is not valid.") from exc
