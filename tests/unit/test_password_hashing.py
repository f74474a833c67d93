"""Tests hash passwords cheaply; production keeps OWASP's argon2id parameters."""

from __future__ import annotations

from pathlib import Path

from dishka import make_async_container

from kalamna.config import Settings
from kalamna.di import make_container
from kalamna.ports.security import PasswordHasher
from tests.conftest import PRODUCTION_PROVIDERS


async def hash_with(container_factory, settings: Settings) -> str:  # type: ignore[no-untyped-def]
    container = container_factory()
    try:
        hasher = await container.get(PasswordHasher)
        hashed: str = await hasher.hash("correct horse battery staple")
        assert await hasher.verify(hashed, "correct horse battery staple")
        return hashed
    finally:
        await container.close()


async def test_production_containers_hash_with_owasp_parameters(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path)
    production = PRODUCTION_PROVIDERS["providers"]
    hashed = await hash_with(
        lambda: make_async_container(*production(), context={Settings: settings}), settings
    )
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_test_containers_hash_cheaply(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path)
    hashed = await hash_with(lambda: make_container(settings), settings)
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
