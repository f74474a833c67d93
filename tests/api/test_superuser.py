"""The platform superuser: the CLI, sign-in through the same routes, and the queue UI behind Basic auth."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from kalamna.adapters.memory.jobs import MemoryJobQueue
from kalamna.application.auth.superuser import CreateSuperuser
from kalamna.di import make_container
from kalamna.embedded import EmbeddedPostgres
from tests.api.helpers import PASSWORD, signed_up
from tests.postgres_templates import BARE, copy_of_template

pytestmark = pytest.mark.usefixtures("clean_state")

ROOT_EMAIL = "root@kalamna.test"
ROOT_PASSWORD = "a long superuser passphrase"


async def make_superuser(settings) -> None:  # type: ignore[no-untyped-def]
    container = make_container(settings)
    try:
        async with container() as scope:
            await (await scope.get(CreateSuperuser))(ROOT_EMAIL, ROOT_PASSWORD)
    finally:
        await container.close()


def basic(email: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALAMNA_")}
    env["KALAMNA_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "kalamna.cli", *args], env=env, capture_output=True, text=True, timeout=180
    )


@pytest.mark.slow
def test_create_superuser_cli_on_a_fresh_data_dir_is_idempotent(postgres_dir: Path) -> None:
    data_dir = postgres_dir
    # Another kalamna process (as `kalamna dev` would) holds the embedded server while the CLI runs.
    running = EmbeddedPostgres(copy_of_template(data_dir / "postgres", BARE))  # initdb'd, not migrated
    running.start()
    try:
        first = run_cli(
            data_dir, "create-superuser", "--email", "Root@Example.test", "--password", ROOT_PASSWORD
        )
        assert first.returncode == 0, first.stderr
        assert "Superuser root@example.test created" in first.stdout
        again = run_cli(
            data_dir, "create-superuser", "--email", "root@example.test", "--password", ROOT_PASSWORD
        )
        assert again.returncode == 0, again.stderr
        assert "already exists" in again.stdout
        weak = run_cli(data_dir, "create-superuser", "--email", "x@example.test", "--password", "password1")
        assert weak.returncode == 2
        assert weak.stderr.startswith("error: ") and "password" in weak.stderr.lower(), weak.stderr
        # The CLI left; the server it joined is still serving us.
        assert "(1 row)" in running._server.psql("SELECT 1;")  # type: ignore[attr-defined]
    finally:
        running.release()  # the last holder: stops it


def test_cli_commands_have_help() -> None:
    for command in ("dev", "serve", "worker", "migrate", "create-superuser"):
        result = subprocess.run(
            [sys.executable, "-m", "kalamna.cli", command, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0
        assert "usage: kalamna" in result.stdout


async def test_superuser_signs_in_through_the_same_routes(client: AsyncTestClient, settings) -> None:  # type: ignore[no-untyped-def]
    await make_superuser(settings)
    response = await client.post("/api/v1/auth/login", json={"email": ROOT_EMAIL, "password": ROOT_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["employee"]["role"] == "superuser"
    assert body["employee"]["organization_id"] is None
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["organization"] is None


async def test_queue_ui_requires_superuser_basic_auth(
    client: AsyncTestClient,
    jobs: MemoryJobQueue,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    await make_superuser(settings)
    owner = await signed_up(client, jobs, "owner@acme.test")
    anonymous = await client.get("/admin/queues/")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    assert (
        await client.get("/admin/queues/", headers=basic(ROOT_EMAIL, "wrong password!"))
    ).status_code == 401
    assert (await client.get("/admin/queues/", headers=basic(owner.email, PASSWORD))).status_code == 401
    page = await client.get("/admin/queues/", headers=basic(ROOT_EMAIL, ROOT_PASSWORD))
    assert page.status_code == 200
    assert 'const root_path = "/admin/queues"' in page.text
    api = await client.get("/admin/queues/api/queues", headers=basic(ROOT_EMAIL, ROOT_PASSWORD))
    assert api.status_code == 200
    assert [q["name"] for q in api.json()["queues"]] == [settings.queue_name]
    script = await client.get("/admin/queues/static/app.js", headers=basic(ROOT_EMAIL, ROOT_PASSWORD))
    assert script.status_code == 200
