"""Issue 16, item 6: database and disk errors answer 503 ``service_unavailable`` with
``Retry-After`` (never 500), and a failed upload leaves no file behind."""

from __future__ import annotations

import resource
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.embedded import EmbeddedPostgres
from kalamna.web.app import create_app
from tests.api.conftest import RecordingJobs, shared_container
from tests.api.helpers import Account, signed_up
from tests.conftest import make_test_settings

pytestmark = pytest.mark.slow

API = "/api/v1"
UPLOAD = ("policy.txt", b"Refunds are accepted within 30 days. " * 6000, "text/plain")  # ~220 KiB


def _files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()] if directory.exists() else []


async def _upload(client: AsyncTestClient, account: Account) -> tuple[int, str | None, str | None]:
    response = await client.post(
        f"{API}/orgs/{account.organization_id}/knowledge-bases", files={"file": UPLOAD}, headers=account.auth
    )
    return response.status_code, response.json().get("code"), response.headers.get("retry-after")


def _assert_unavailable(status: int, code: str | None, retry_after: str | None) -> None:
    assert (status, code, retry_after) == (503, "service_unavailable", "5")


async def test_database_down_gives_503_with_retry_after_and_no_orphan_upload(
    own_postgres: EmbeddedPostgres, services, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_test_settings(services, tmp_path / "data", database_url=own_postgres.url)
    jobs = RecordingJobs()
    async with AsyncTestClient(create_app(settings, shared_container(settings, jobs))) as client:
        owner = await signed_up(client, jobs, "owner@pgdown.test")
        own_postgres.stop()
        listed = await client.get(f"{API}/orgs/{owner.organization_id}/knowledge-bases", headers=owner.auth)
        assert (listed.status_code, listed.headers.get("retry-after")) == (503, "5")
        assert listed.json() == {
            "status_code": 503,
            "code": "service_unavailable",
            "detail": "A service this request needs is unavailable; try again shortly.",
        }
        login = await client.post(
            f"{API}/auth/login", json={"email": owner.email, "password": owner.password}
        )
        assert (login.status_code, login.json()["code"]) == (503, "service_unavailable")
        # The file was written before the database refused the entry: it is removed again.
        _assert_unavailable(*await _upload(client, owner))
        assert _files(settings.blob_dir) == []
        own_postgres.restart()
        listed = await client.get(f"{API}/orgs/{owner.organization_id}/knowledge-bases", headers=owner.auth)
        assert listed.status_code == 200


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs as the upload directory (needs mount rights, as in CI containers)."""
    blobs = tmp_path / "data" / "blobs"
    blobs.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(blobs)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield tmp_path / "data"
    finally:
        subprocess.run(["umount", str(blobs)], check=False)


async def test_upload_on_a_full_disk_gives_503_and_leaves_no_partial_file(
    full_disk: Path, services, clean_state, jobs: MemoryJobQueue
) -> None:  # type: ignore[no-untyped-def]
    settings = make_test_settings(services, full_disk)
    async with AsyncTestClient(create_app(settings, shared_container(settings, jobs))) as client:
        owner = await signed_up(client, jobs, "owner@full.test")
        _assert_unavailable(*await _upload(client, owner))
        assert _files(settings.blob_dir) == []
        listed = await client.get(f"{API}/orgs/{owner.organization_id}/knowledge-bases", headers=owner.auth)
        assert listed.json()["total"] == 0


async def test_upload_over_the_file_size_limit_gives_503_and_leaves_no_partial_file(
    services, clean_state, jobs: MemoryJobQueue, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The same without privileges: RLIMIT_FSIZE makes the kernel refuse the write (EFBIG)."""
    settings = make_test_settings(services, tmp_path / "data")
    async with AsyncTestClient(create_app(settings, shared_container(settings, jobs))) as client:
        owner = await signed_up(client, jobs, "owner@limit.test")
        limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, limits[1]))
        try:
            result = await _upload(client, owner)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, limits)
            signal.signal(signal.SIGXFSZ, previous)
        _assert_unavailable(*result)
        assert _files(settings.blob_dir) == []
        listed = await client.get(f"{API}/orgs/{owner.organization_id}/knowledge-bases", headers=owner.auth)
        assert listed.json()["total"] == 0
