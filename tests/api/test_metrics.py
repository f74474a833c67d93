"""GET /metrics: the documented series after real traffic, bounded labels, the token rule, and the
multi-process merge used by ``serve --workers N``."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from kalamna.web.app import create_app
from tests.api.conftest import RecordingJobs, shared_container
from tests.api.helpers import Account, World, live_account, wait_for_status
from tests.conftest import SAFE_PRODUCTION, make_test_settings

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DOCUMENTED = {
    "kalamna_http_requests": "counter",
    "kalamna_http_request_duration_seconds": "histogram",
    "kalamna_chat_first_token_seconds": "histogram",
    "kalamna_chat_reply_seconds": "histogram",
    "kalamna_llm_request_duration_seconds": "histogram",
    "kalamna_llm_errors": "counter",
    "kalamna_llm_tokens": "counter",
    "kalamna_embedder_request_duration_seconds": "histogram",
    "kalamna_embedder_errors": "counter",
    "kalamna_jobs": "counter",
    "kalamna_queue_jobs": "gauge",
    "kalamna_handovers_waiting": "gauge",
}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(parsed: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return parsed.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: AsyncTestClient, path: str = "/metrics", **headers: str) -> str:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return response.text


async def test_request_series_use_route_templates(client: AsyncTestClient, world: World) -> None:
    before = samples(await scrape(client))
    org = f"/api/v1/orgs/{world.org}"
    for _ in range(3):
        assert (await client.get(org, headers=world.owner.auth)).status_code == 200
    assert (await client.get(org, headers=world.other_owner.auth)).status_code == 404
    assert (await client.get("/api/v1/no/such/route")).status_code == 404
    text = await scrape(client, "/api/v1/metrics")
    after = samples(text)
    route = "/api/v1/orgs/{org_id}"
    count = "kalamna_http_requests_total"
    ok = {"method": "GET", "route": route, "status": "200"}
    assert value(after, count, **ok) - value(before, count, **ok) == 3
    missing = {"method": "GET", "route": route, "status": "404"}
    assert value(after, count, **missing) - value(before, count, **missing) == 1
    hist = "kalamna_http_request_duration_seconds_count"
    assert value(after, hist, **ok) - value(before, hist, **ok) == 3
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, count, **unmatched) >= 1
    assert not UUID_RE.search(text), "a raw id leaked into a label"
    assert "/no/such/route" not in text
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    for name in ("kalamna_http_requests", "kalamna_http_request_duration_seconds", "kalamna_queue_jobs"):
        assert families[name] == DOCUMENTED[name]
    assert value(after, "kalamna_handovers_waiting") == 0.0
    assert ("kalamna_queue_jobs", frozenset({("state", "queued")})) in after


async def job_states(settings) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(task, status, error) of every SAQ job in Redis: what a failure message needs to say."""
    from kalamna.adapters.queue.saq_queue import make_queue

    queue = make_queue(settings.redis_url, settings.queue_name)
    try:
        states = []
        async for job_id in queue.redis.scan_iter(match=queue.job_id("*")):
            job = await queue.job(queue.job_key_from_id(job_id.decode()))
            if job is not None:
                states.append((job.function, str(job.status), (job.error or "")[-300:]))
        return states
    finally:
        await queue.disconnect()


async def test_chat_model_embedder_and_job_series(live_client: AsyncTestClient, settings) -> None:  # type: ignore[no-untyped-def]
    before = samples(await scrape(live_client))
    owner: Account = await live_account(live_client, settings, "owner@metrics.test", "Metrics")
    entry = await live_client.post(
        f"/api/v1/orgs/{owner.organization_id}/knowledge-bases",
        json={"title": "Delivery", "content": "We deliver to every Gulf country within three business days."},
        headers=owner.auth,
    )
    await wait_for_status(live_client, owner, entry.json()["id"])
    key = (
        await live_client.post(f"/api/v1/orgs/{owner.organization_id}/credentials", headers=owner.auth)
    ).json()["api_key"]
    session = (await live_client.post("/api/v1/chat/sessions", json={}, headers={"X-API-Key": key})).json()
    reply = await live_client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/messages",
        json={"content": "How long does delivery to Gulf countries take?"},
        headers={"X-API-Key": key, "X-Session-Token": session["session_token"]},
    )
    assert reply.status_code in (200, 201), reply.text
    # A mail through the worker (the seeded account sent none): forgot-password → lookup → delivery.
    forgot = await live_client.post("/api/v1/auth/password/forgot", json={"email": owner.email})
    assert forgot.status_code == 202
    deadline = time.monotonic() + 60  # the lookup and the delivery are two jobs of a busy worker
    while True:
        text = await scrape(live_client)
        delivered = value(samples(text), "kalamna_jobs_total", task="deliver_email", outcome="complete")
        if delivered > value(before, "kalamna_jobs_total", task="deliver_email", outcome="complete"):
            break  # (the counter is process-wide: an earlier test of this worker may have sent mail)
        assert time.monotonic() < deadline, f"no mail delivered; jobs: {await job_states(settings)}"
        await asyncio.sleep(0.05)
    after = samples(text)
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    for name, kind in DOCUMENTED.items():
        assert families.get(name) == kind, name

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert sum(delta("kalamna_chat_reply_seconds_count", outcome=o) for o in ("answered", "fallback")) == 1
    assert delta("kalamna_chat_first_token_seconds_count") == 1
    llm_calls = delta("kalamna_llm_request_duration_seconds_count", mode="stream") + delta(
        "kalamna_llm_request_duration_seconds_count", mode="complete"
    )
    assert llm_calls == 1
    assert delta("kalamna_llm_tokens_total", kind="prompt") > 0
    assert delta("kalamna_embedder_request_duration_seconds_count", kind="passages") >= 1
    assert delta("kalamna_embedder_request_duration_seconds_count", kind="query") >= 1
    assert delta("kalamna_jobs_total", task="ingest_entry", outcome="complete") == 1
    assert delta("kalamna_jobs_total", task="deliver_email", outcome="complete") >= 1
    assert not UUID_RE.search(text)


@pytest.fixture
async def production_client(services, clean_state, tmp_path: Path) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    settings = make_test_settings(
        services, tmp_path / "prod", **{**SAFE_PRODUCTION, "metrics_token": "m" * 40}
    )
    app = create_app(settings, shared_container(settings, RecordingJobs()))
    async with AsyncTestClient(app) as client:
        yield client


async def test_production_needs_the_token(production_client: AsyncTestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "m" * 40}):
        response = await production_client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "not_authenticated"
    assert (await production_client.get("/api/v1/metrics")).status_code == 401
    text = await scrape(production_client, Authorization="Bearer " + "m" * 40)
    assert "kalamna_http_requests_total" in text


async def test_production_without_a_token_refuses_metrics(services, clean_state, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_test_settings(services, tmp_path / "prod", **SAFE_PRODUCTION)
    app = create_app(settings, shared_container(settings, RecordingJobs()))
    async with AsyncTestClient(app) as client:
        response = await client.get("/metrics", headers={"Authorization": "Bearer "})
        assert response.status_code == 401
        assert "KALAMNA_METRICS_TOKEN" in response.json()["detail"]


async def test_development_with_a_token_still_checks_it(services, clean_state, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_test_settings(services, tmp_path / "dev", env="development", metrics_token="abc")
    app = create_app(settings, shared_container(settings, RecordingJobs()))
    async with AsyncTestClient(app) as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer abc"})).status_code == 200


def test_worker_processes_are_merged(tmp_path: Path) -> None:
    """Two processes count into PROMETHEUS_MULTIPROC_DIR; a third renders the sum (as /metrics does)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = textwrap.dedent(
        """
        from kalamna import metrics
        metrics.HTTP_REQUESTS.labels("GET", "/api/v1/health", "200").inc(5)
        """
    )
    render = textwrap.dedent(
        """
        import asyncio
        from kalamna import metrics
        print(asyncio.run(metrics.render([])).decode())
        """
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    out = subprocess.run([sys.executable, "-c", render], env=env, check=True, timeout=60, capture_output=True)
    parsed = samples(out.stdout.decode())
    labels = {"method": "GET", "route": "/api/v1/health", "status": "200"}
    assert value(parsed, "kalamna_http_requests_total", **labels) == 10


def test_dashboard_and_docs_use_only_documented_series() -> None:
    import json

    docs = Path(__file__).resolve().parents[2] / "docs"
    dashboard = json.loads((docs / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {
        re.sub(r"_(bucket|count|sum|total)$", "", n) for e in exprs for n in re.findall(r"kalamna_\w+", e)
    }
    assert used == set(DOCUMENTED)
    page = (docs / "metrics.md").read_text()
    for name, kind in DOCUMENTED.items():
        shown = name + "_total" if kind == "counter" else name
        assert f"`{shown}`" in page, shown
