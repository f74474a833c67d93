"""Emailed links name the configured public URL, else the address this process listens on."""

from __future__ import annotations

import pytest

from kalamna.application.auth.emails import Links
from kalamna.config import Settings, SettingsError, load_settings


def settings(**env: str) -> Settings:
    return load_settings({"KALAMNA_DATA_DIR": "/tmp/unused-kalamna", **env}, dotenv=None)


def test_base_url_follows_the_port_when_no_public_url_is_set() -> None:
    env = {"KALAMNA_JWT_SECRET": "j" * 40, "KALAMNA_INTERNAL_TOKEN": "i" * 40}
    assert settings(**env).base_url == "http://127.0.0.1:8000"
    assert settings(KALAMNA_PORT="9123", **env).base_url == "http://127.0.0.1:9123"
    assert settings(KALAMNA_HOST="0.0.0.0", KALAMNA_PORT="80", **env).base_url == "http://127.0.0.1:80"
    assert settings(KALAMNA_HOST="::1", **env).base_url == "http://[::1]:8000"
    configured = settings(KALAMNA_PUBLIC_URL="https://chat.example.com/", KALAMNA_PORT="9123", **env)
    assert configured.base_url == "https://chat.example.com"


def test_bad_public_url_is_reported() -> None:
    with pytest.raises(SettingsError, match="KALAMNA_PUBLIC_URL"):
        settings(
            KALAMNA_PUBLIC_URL="chat.example.com",
            KALAMNA_JWT_SECRET="j" * 40,
            KALAMNA_INTERNAL_TOKEN="i" * 40,
        )


def test_links_use_the_account_pages_unless_a_dashboard_is_configured() -> None:
    links = Links(public_url="http://127.0.0.1:9123", dashboard_url="http://127.0.0.1:9123")
    assert links.verify_email("t1") == "http://127.0.0.1:9123/api/v1/auth/verify/t1"
    assert links.reset_password("t 2") == "http://127.0.0.1:9123/reset-password?token=t%202"
    assert links.accept_invitation("t3") == "http://127.0.0.1:9123/accept-invitation?token=t3"
