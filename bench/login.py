"""Login throughput with the configured argon2id parameters, and what a login storm does to a cheap
authenticated route. Run: `uv run python bench/login.py [--concurrency 16] [--seconds 10]`."""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench._server import percentile, running_kalamna, wait_for_token

PASSWORD = "benchmark passphrase 42"


async def me_latencies(client: httpx.AsyncClient, token: str, stop: asyncio.Event, out: list[float]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get("/api/v1/auth/me", headers=headers)
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        await asyncio.sleep(0.01)


async def login_loop(client: httpx.AsyncClient, email: str, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text


async def run(base: str, data_dir, concurrency: int, seconds: float) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=concurrency + 8)
    ) as client:
        emails = [f"bench{i}@example.test" for i in range(4)]
        for i, address in enumerate(emails):
            response = await client.post(
                "/api/v1/auth/register",
                json={
                    "organization_name": f"Bench {i}",
                    "full_name": "Bench",
                    "email": address,
                    "password": PASSWORD,
                },
            )
            assert response.status_code == 201, response.text
            token = await asyncio.to_thread(wait_for_token, data_dir, address)
            assert (await client.get(f"/api/v1/auth/verify/{token}")).status_code == 200
        access = (
            await client.post("/api/v1/auth/login", json={"email": emails[0], "password": PASSWORD})
        ).json()["access_token"]

        baseline: list[float] = []
        stop = asyncio.Event()
        probe = asyncio.create_task(me_latencies(client, access, stop, baseline))
        await asyncio.sleep(min(5.0, seconds / 2))
        stop.set()
        await probe

        logins: list[float] = []
        under_load: list[float] = []
        stop = asyncio.Event()
        started = time.perf_counter()
        tasks = [
            asyncio.create_task(login_loop(client, emails[i % len(emails)], stop, logins))
            for i in range(concurrency)
        ]
        probe = asyncio.create_task(me_latencies(client, access, stop, under_load))
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*tasks, probe)
        elapsed = time.perf_counter() - started

    print(f"argon2id m=19456 KiB, t=2, p=1; {concurrency} concurrent login clients")
    print(f"logins/s: {len(logins) / elapsed:.1f}  ({len(logins)} in {elapsed:.1f}s)")
    print(
        f"login latency ms: p50 {percentile(logins, 50):.1f}  p95 {percentile(logins, 95):.1f}  p99 {percentile(logins, 99):.1f}"
    )
    print(
        f"GET /auth/me ms, idle:       p50 {percentile(baseline, 50):.1f}  p95 {percentile(baseline, 95):.1f}"
        f"  p99 {percentile(baseline, 99):.1f}  (n={len(baseline)})"
    )
    print(
        f"GET /auth/me ms, login storm: p50 {percentile(under_load, 50):.1f}  p95 {percentile(under_load, 95):.1f}"
        f"  p99 {percentile(under_load, 99):.1f}  (n={len(under_load)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--argon2-threads", type=int, default=None, help="override KALAMNA_ARGON2_THREADS")
    args = parser.parse_args()
    env = {"KALAMNA_ARGON2_THREADS": str(args.argon2_threads)} if args.argon2_threads else {}
    with running_kalamna(env) as (base, data_dir):
        asyncio.run(run(base, data_dir, args.concurrency, args.seconds))


if __name__ == "__main__":
    main()
