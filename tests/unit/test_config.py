from __future__ import annotations

from pathlib import Path

import pytest

from kalamna.config import SettingsError, load_settings


def test_defaults_and_generated_secrets_persist(tmp_path: Path) -> None:
    env = {"KALAMNA_DATA_DIR": str(tmp_path)}
    first = load_settings(env, dotenv=None)
    assert first.uses_embedded_database and first.uses_embedded_redis
    assert first.jwt_secret and len(first.jwt_secret) >= 32
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    second = load_settings(env, dotenv=None)
    assert (second.jwt_secret, second.internal_token) == (first.jwt_secret, first.internal_token)


def test_every_bad_value_is_reported_with_its_variable(tmp_path: Path) -> None:
    env = {
        "KALAMNA_DATA_DIR": str(tmp_path),
        "KALAMNA_PORT": "eighty",
        "KALAMNA_WORKERS": "many",
        "KALAMNA_LOG_LEVEL": "LOUD",
    }
    with pytest.raises(SettingsError) as excinfo:
        load_settings(env, dotenv=None)
    message = str(excinfo.value)
    for name in ("KALAMNA_PORT", "KALAMNA_WORKERS", "KALAMNA_LOG_LEVEL"):
        assert name in message
    assert len(excinfo.value.problems) == 3


def test_range_and_url_checks(tmp_path: Path) -> None:
    env = {
        "KALAMNA_DATA_DIR": str(tmp_path),
        "KALAMNA_PORT": "70000",
        "KALAMNA_DATABASE_URL": "mysql://x",
        "KALAMNA_REDIS_URL": "http://x",
        "KALAMNA_WORKER_IDLE_WAIT_S": "0",
    }
    with pytest.raises(SettingsError) as excinfo:
        load_settings(env, dotenv=None)
    assert {p.split(":")[0] for p in excinfo.value.problems} == {
        "KALAMNA_PORT",
        "KALAMNA_DATABASE_URL",
        "KALAMNA_REDIS_URL",
        "KALAMNA_WORKER_IDLE_WAIT_S",
    }
    assert load_settings({"KALAMNA_DATA_DIR": str(tmp_path)}, dotenv=None).worker_idle_wait_s == 1.0


def test_production_requires_real_secrets(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="KALAMNA_JWT_SECRET"):
        load_settings({"KALAMNA_ENV": "production", "KALAMNA_DATA_DIR": str(tmp_path)}, dotenv=None)


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        'KALAMNA_PORT=9001\nexport KALAMNA_HOST="0.0.0.0"\n# comment\nKALAMNA_CORS_ALLOW_ORIGINS=https://a.example, https://b.example\n'
    )
    settings = load_settings({"KALAMNA_DATA_DIR": str(tmp_path), "KALAMNA_PORT": "9002"}, dotenv=dotenv)
    assert settings.port == 9002
    assert settings.host == "0.0.0.0"
    assert settings.cors_allow_origins == ["https://a.example", "https://b.example"]


def test_unsafe_production_settings_are_refused_each_by_name(tmp_path: Path) -> None:
    """Issue 9 item 11."""
    with pytest.raises(SettingsError) as refused:
        load_settings(
            {
                "KALAMNA_ENV": "production",
                "KALAMNA_DATA_DIR": str(tmp_path),
                "KALAMNA_JWT_SECRET": " " * 32,
                "KALAMNA_INTERNAL_TOKEN": "a" * 40,
                "KALAMNA_CORS_ALLOW_ORIGINS": "*",
                "KALAMNA_PUBLIC_URL": "http://api.example",
                "KALAMNA_DASHBOARD_URL": "http://app.example",
                "KALAMNA_MAIL_BACKEND": "outbox",
            },
            dotenv=None,
        )
    named = {problem.split(":", 1)[0] for problem in refused.value.problems}
    assert named == {
        "KALAMNA_JWT_SECRET",
        "KALAMNA_INTERNAL_TOKEN",
        "KALAMNA_CORS_ALLOW_ORIGINS",
        "KALAMNA_PUBLIC_URL",
        "KALAMNA_DASHBOARD_URL",
        "KALAMNA_MAIL_BACKEND",
    }


def test_safe_production_settings_start(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "KALAMNA_ENV": "production",
            "KALAMNA_DATA_DIR": str(tmp_path),
            "KALAMNA_JWT_SECRET": "Zq3v8Lr1Wx0Pn7Ks5Hd2Tb9Mc4Fy6Ga1Qe8",
            "KALAMNA_INTERNAL_TOKEN": "Hk2Pw9Xn4Rt7Lm1Vb6Cs3Dq8Zf5Jy0Ge7",
            "KALAMNA_CORS_ALLOW_ORIGINS": "https://app.example",
            "KALAMNA_PUBLIC_URL": "https://api.example",
            "KALAMNA_DASHBOARD_URL": "https://app.example",
            "KALAMNA_MAIL_BACKEND": "smtp",
        },
        dotenv=None,
    )
    assert settings.env == "production"
