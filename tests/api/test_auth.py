"""Sections 1 and 3 of the contract against real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import jwt
import pytest
from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.jobs import MemoryJobQueue
from tests.api.helpers import PASSWORD, emails_to, last_email, login, register, signed_up, token_from

pytestmark = pytest.mark.usefixtures("clean_state")


def assert_error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status_code"] == status
    assert body["code"] == code
    assert body["detail"]


# --- registration and verification -------------------------------------------------------------


async def test_register_creates_pending_org_and_owner_and_mails_a_link(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    body = await register(client, jobs, "Ann@Acme.test", verify=False)
    assert body["organization"]["status"] == "pending"
    assert body["employee"]["status"] == "pending"
    assert body["employee"]["role"] == "owner"
    assert body["employee"]["email"] == "ann@acme.test"
    assert "access_token" not in body
    mail = last_email(jobs, "ann@acme.test")
    assert mail["text"].startswith("Hello")
    assert "<a href=" in mail["html"]
    assert "http://127.0.0.1:8000/api/v1/auth/verify/" in mail["text"]


async def test_register_ignores_the_host_header_for_links(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    await client.post(
        "/api/v1/auth/register",
        json={"organization_name": "A", "full_name": "A", "email": "h@a.test", "password": PASSWORD},
        headers={"Host": "evil.example"},
    )
    assert "evil.example" not in last_email(jobs, "h@a.test")["text"]


async def test_registration_defaults_bot_config(
    client: AsyncTestClient, jobs: MemoryJobQueue, settings
) -> None:  # type: ignore[no-untyped-def]
    account = await signed_up(client, jobs, "bot@acme.test")
    # The config route lands with the organizations issue; the row must exist from registration on.
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(settings.database_url)
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT temperature, top_k FROM bot_configs WHERE organization_id = :o"),
                {"o": account.organization_id},
            )
        ).one()
    await engine.dispose()
    assert row.temperature == pytest.approx(0.2)
    assert row.top_k == 5


async def test_duplicate_email_is_409(client: AsyncTestClient, jobs: MemoryJobQueue) -> None:
    await register(client, jobs, "dup@acme.test", verify=False)
    response = await client.post(
        "/api/v1/auth/register",
        json={"organization_name": "B", "full_name": "B", "email": "DUP@acme.test", "password": PASSWORD},
    )
    assert_error(response, 409, "email_taken")


@pytest.mark.parametrize(
    "password", ["password1", "12345678", "qwertyuiop", "short", "x" * 129, "aaaaaaaaaa"]
)
async def test_weak_passwords_are_refused(client: AsyncTestClient, password: str) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"organization_name": "A", "full_name": "A", "email": "w@a.test", "password": password},
    )
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    "payload",
    [
        {"organization_name": "A", "full_name": "A", "email": "not-an-email", "password": PASSWORD},
        {
            "organization_name": "A",
            "full_name": "A",
            "email": "a@a.test",
            "password": PASSWORD,
            "role": "superuser",
        },
        {"organization_name": "A", "full_name": "A", "email": "a@a.test"},
        {"organization_name": "", "full_name": "A", "email": "a@a.test", "password": PASSWORD},
    ],
)
async def test_bad_registration_input_is_422(client: AsyncTestClient, payload: dict) -> None:  # type: ignore[type-arg]
    assert_error(await client.post("/api/v1/auth/register", json=payload), 422, "validation_error")


async def test_verification_activates_both_and_token_is_single_use(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    await register(client, jobs, "v@acme.test", verify=False)
    token = token_from(last_email(jobs, "v@acme.test"))
    response = await client.get(f"/api/v1/auth/verify/{token}")
    assert response.status_code == 200
    body = response.json()
    assert body["organization"]["status"] == "active"
    assert body["employee"]["status"] == "active"
    assert_error(await client.get(f"/api/v1/auth/verify/{token}"), 400, "invalid_token")
    assert_error(await client.get("/api/v1/auth/verify/not-a-real-token"), 400, "invalid_token")


async def test_concurrent_verification_succeeds_exactly_once(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    await register(client, jobs, "race@acme.test", verify=False)
    token = token_from(last_email(jobs, "race@acme.test"))
    responses = await asyncio.gather(*(client.get(f"/api/v1/auth/verify/{token}") for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [200, 400, 400, 400, 400]


async def test_resend_kills_the_old_link_and_never_reveals_accounts(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    await register(client, jobs, "r@acme.test", verify=False)
    old = token_from(last_email(jobs, "r@acme.test"))
    known = await client.post("/api/v1/auth/verify/resend", json={"email": "r@acme.test"})
    unknown = await client.post("/api/v1/auth/verify/resend", json={"email": "nobody@acme.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    new = token_from(last_email(jobs, "r@acme.test"))
    assert new != old
    assert_error(await client.get(f"/api/v1/auth/verify/{old}"), 400, "invalid_token")
    assert (await client.get(f"/api/v1/auth/verify/{new}")).status_code == 200
    assert emails_to(jobs, "nobody@acme.test") == []


async def test_expired_verification_token_is_refused(
    client: AsyncTestClient, jobs: MemoryJobQueue, settings
) -> None:  # type: ignore[no-untyped-def]
    await register(client, jobs, "old@acme.test", verify=False)
    token = token_from(last_email(jobs, "old@acme.test"))
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE one_time_tokens SET expires_at = now() - interval '1 minute'"))
    await engine.dispose()
    assert_error(await client.get(f"/api/v1/auth/verify/{token}"), 400, "invalid_token")


# --- sign-in -------------------------------------------------------------------------------------


async def test_login_returns_pair_and_employee(client: AsyncTestClient, jobs: MemoryJobQueue) -> None:
    await register(client, jobs, "l@acme.test")
    body = await login(client, "L@ACME.test")
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["employee"]["email"] == "l@acme.test"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert {"sub", "org", "role", "jti", "iat", "exp", "iss", "aud", "typ"} <= claims.keys()
    assert claims["typ"] == "access"
    assert claims["role"] == "owner"


async def test_unknown_email_and_wrong_password_answer_the_same(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    await register(client, jobs, "same@acme.test")
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "same@acme.test", "password": "nope-nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "ghost@acme.test", "password": "nope-nope-nope"}
    )
    assert_error(wrong, 401, "invalid_credentials")
    assert_error(unknown, 401, "invalid_credentials")
    assert wrong.json() == unknown.json()


async def test_unverified_login_is_403(client: AsyncTestClient, jobs: MemoryJobQueue) -> None:
    await register(client, jobs, "unv@acme.test", verify=False)
    response = await client.post("/api/v1/auth/login", json={"email": "unv@acme.test", "password": PASSWORD})
    assert_error(response, 403, "email_not_verified")


async def test_failed_logins_are_rate_limited_per_email_and_ip(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    await register(client, jobs, "rl@acme.test")
    bad = {"email": "rl@acme.test", "password": "wrong-password-here"}
    for attempt in range(10):
        response = await client.post("/api/v1/auth/login", json=bad)
        assert response.status_code == 401
        assert response.headers["x-ratelimit-limit"] == "10"
        assert response.headers["x-ratelimit-remaining"] == str(9 - attempt)
    limited = await client.post("/api/v1/auth/login", json={"email": "rl@acme.test", "password": PASSWORD})
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0
    # A spoofed X-Forwarded-For from an untrusted peer does not open a fresh bucket.
    spoofed = await client.post(
        "/api/v1/auth/login",
        json={"email": "rl@acme.test", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert_error(spoofed, 429, "rate_limited")
    # Another email from the same IP is not affected.
    await register(client, jobs, "other@acme.test")
    assert (
        await client.post("/api/v1/auth/login", json={"email": "other@acme.test", "password": PASSWORD})
    ).status_code == 200


async def test_registrations_are_rate_limited_per_ip(client: AsyncTestClient) -> None:
    for i in range(10):
        response = await client.post(
            "/api/v1/auth/register",
            json={"organization_name": "O", "full_name": "F", "email": f"r{i}@x.test", "password": PASSWORD},
        )
        assert response.status_code == 201
    response = await client.post(
        "/api/v1/auth/register",
        json={"organization_name": "O", "full_name": "F", "email": "r99@x.test", "password": PASSWORD},
    )
    assert_error(response, 429, "rate_limited")
    assert "retry-after" in response.headers


async def test_forgot_and_resend_are_rate_limited_per_email(client: AsyncTestClient) -> None:
    for _ in range(5):
        assert (
            await client.post("/api/v1/auth/password/forgot", json={"email": "f@x.test"})
        ).status_code == 202
    assert_error(
        await client.post("/api/v1/auth/password/forgot", json={"email": "f@x.test"}), 429, "rate_limited"
    )
    assert (await client.post("/api/v1/auth/password/forgot", json={"email": "g@x.test"})).status_code == 202


# --- tokens ----------------------------------------------------------------------------------------


async def test_me_with_and_without_token(client: AsyncTestClient, jobs: MemoryJobQueue) -> None:
    account = await signed_up(client, jobs, "me@acme.test")
    response = await client.get("/api/v1/auth/me", headers=account.auth)
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "me@acme.test"
    assert body["organization"]["id"] == account.organization_id
    assert_error(await client.get("/api/v1/auth/me"), 401, "not_authenticated")
    assert_error(
        await client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}), 401, "not_authenticated"
    )


def _forge(claims: dict, header: dict, key: bytes = b"") -> str:  # type: ignore[type-arg]
    def b64(data: dict) -> str:  # type: ignore[type-arg]
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64(header)}.{b64(claims)}.{base64.urlsafe_b64encode(key).rstrip(b'=').decode()}"


async def test_forged_access_tokens_are_refused(
    client: AsyncTestClient, jobs: MemoryJobQueue, settings
) -> None:  # type: ignore[no-untyped-def]
    account = await signed_up(client, jobs, "forge@acme.test")
    claims = jwt.decode(account.access_token, options={"verify_signature": False})
    secret = settings.jwt_secret
    now = int(time.time())
    forged = {
        "alg none": _forge(claims, {"alg": "none", "typ": "JWT", "kid": "k1"}),
        "wrong signature": jwt.encode(claims, "x" * 48, algorithm="HS256", headers={"kid": "k1"}),
        "wrong aud": jwt.encode(
            {**claims, "aud": "someone-else"}, secret, algorithm="HS256", headers={"kid": "k1"}
        ),
        "wrong iss": jwt.encode({**claims, "iss": "evil"}, secret, algorithm="HS256", headers={"kid": "k1"}),
        "missing exp": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"}, secret, algorithm="HS256", headers={"kid": "k1"}
        ),
        "wrong typ": jwt.encode(
            {**claims, "typ": "refresh"}, secret, algorithm="HS256", headers={"kid": "k1"}
        ),
        "unknown kid": jwt.encode(claims, secret, algorithm="HS256", headers={"kid": "k9"}),
        "HS512 with same secret": jwt.encode(claims, secret, algorithm="HS512", headers={"kid": "k1"}),
        "garbage": "not.a.jwt",
    }
    for name, token in forged.items():
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.json()["code"] == "not_authenticated", name
    expired = jwt.encode(
        {**claims, "iat": now - 3600, "exp": now - 1800}, secret, algorithm="HS256", headers={"kid": "k1"}
    )
    assert_error(
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"}),
        401,
        "token_expired",
    )


async def test_refresh_and_access_tokens_are_not_interchangeable(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    account = await signed_up(client, jobs, "swap@acme.test")
    as_access = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {account.refresh_token}"}
    )
    assert_error(as_access, 401, "not_authenticated")
    as_refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": account.access_token})
    assert as_refresh.status_code == 401


async def test_refresh_rotates_and_reuse_revokes_the_family(
    client: AsyncTestClient, jobs: MemoryJobQueue
) -> None:
    account = await signed_up(client, jobs, "rot@acme.test")
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200
    pair = first.json()
    assert pair["refresh_token"] != account.refresh_token
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    ).status_code == 200
    # The rotated token comes back: someone copied it. The whole family dies, the new token too.
    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert_error(reused, 401, "token_revoked")
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert after.status_code == 401
    # Other sign-ins of the same person are separate families and keep working.
    other = await login(client, "rot@acme.test")
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 200


async def test_logout_revokes_both_tokens(client: AsyncTestClient, jobs: MemoryJobQueue) -> None:
    account = await signed_up(client, jobs, "out@acme.test")
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": account.refresh_token}, headers=account.auth
    )
    assert response.status_code == 204
    assert_error(await client.get("/api/v1/auth/me", headers=account.auth), 401, "token_revoked")
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    ).status_code == 401


# --- passwords -------------------------------------------------------------------------------------


async def test_forgot_reset_flow_and_lock_out(client: AsyncTestClient, jobs: MemoryJobQueue) -> None:
    account = await signed_up(client, jobs, "pw@acme.test")
    known = await client.post("/api/v1/auth/password/forgot", json={"email": "pw@acme.test"})
    unknown = await client.post("/api/v1/auth/password/forgot", json={"email": "nobody@acme.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    mail = last_email(jobs, "pw@acme.test")
    assert "reset-password?token=" in mail["text"]
    token = token_from(mail)
    check = await client.get(f"/api/v1/auth/password/reset/verify/{token}")
    assert check.status_code == 200
    assert check.json()["valid"] is True
    weak = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": "password1"}
    )
    assert_error(weak, 422, "validation_error")
    reset = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": "a brand new passphrase"}
    )
    assert reset.status_code == 200
    # Single use.
    again = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": "another new passphrase"}
    )
    assert_error(again, 400, "invalid_token")
    assert_error(await client.get(f"/api/v1/auth/password/reset/verify/{token}"), 400, "invalid_token")
    # Old sessions are cut at once; the new password works, the old one does not.
    assert_error(await client.get("/api/v1/auth/me", headers=account.auth), 401, "token_revoked")
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    ).status_code == 401
    assert (
        await client.post("/api/v1/auth/login", json={"email": "pw@acme.test", "password": PASSWORD})
    ).status_code == 401
    await login(client, "pw@acme.test", "a brand new passphrase")


async def test_a_newer_reset_token_kills_the_older(client: AsyncTestClient, jobs: MemoryJobQueue) -> None:
    await signed_up(client, jobs, "two@acme.test")
    await client.post("/api/v1/auth/password/forgot", json={"email": "two@acme.test"})
    first = token_from(last_email(jobs, "two@acme.test"))
    await client.post("/api/v1/auth/password/forgot", json={"email": "two@acme.test"})
    second = token_from(last_email(jobs, "two@acme.test"))
    assert_error(await client.get(f"/api/v1/auth/password/reset/verify/{first}"), 400, "invalid_token")
    assert (await client.get(f"/api/v1/auth/password/reset/verify/{second}")).status_code == 200


async def test_change_password(client: AsyncTestClient, jobs: MemoryJobQueue) -> None:
    account = await signed_up(client, jobs, "chg@acme.test")
    other_session = await login(client, "chg@acme.test")
    wrong = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": "not-the-password", "new_password": "a fresh passphrase"},
        headers=account.auth,
    )
    assert_error(wrong, 400, "invalid_credentials")
    changed = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": PASSWORD, "new_password": "a fresh passphrase"},
        headers=account.auth,
    )
    assert changed.status_code == 200
    body = changed.json()
    assert body["message"]
    # Every older token is refused; the fresh pair returned by the change works.
    assert_error(await client.get("/api/v1/auth/me", headers=account.auth), 401, "token_revoked")
    other = {"Authorization": f"Bearer {other_session['access_token']}"}
    assert_error(await client.get("/api/v1/auth/me", headers=other), 401, "token_revoked")
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": other_session["refresh_token"]})
    ).status_code == 401
    fresh = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200


async def test_trailing_slash_on_auth_routes(client: AsyncTestClient, jobs: MemoryJobQueue) -> None:
    await register(client, jobs, "slash@acme.test")
    response = await client.post(
        "/api/v1/auth/login/", json={"email": "slash@acme.test", "password": PASSWORD}
    )
    assert response.status_code == 200


async def test_no_token_or_password_in_logs(client: AsyncTestClient, jobs: MemoryJobQueue, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level("DEBUG")
    account = await signed_up(client, jobs, "logs@acme.test")
    await client.post("/api/v1/auth/login", json={"email": "logs@acme.test", "password": "wrong-password-1"})
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert PASSWORD not in text
    assert "wrong-password-1" not in text
    assert account.access_token not in text
    assert account.refresh_token not in text
    assert any(r.name == "kalamna.audit" and r.getMessage() == "login failed" for r in caplog.records)
    assert any(r.name == "kalamna.audit" and r.getMessage() == "login succeeded" for r in caplog.records)


async def test_unknown_uuid_shapes_do_not_500(client: AsyncTestClient) -> None:
    response = await client.get(f"/api/v1/auth/verify/{uuid.uuid4()}")
    assert_error(response, 400, "invalid_token")
