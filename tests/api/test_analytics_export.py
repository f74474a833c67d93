"""GET /orgs/{org_id}/analytics/export: CSV with BOM, Arabic intact, formulas neutralised, roles."""

from __future__ import annotations

import csv
import io
import uuid

from litestar.testing import AsyncTestClient

from tests.api.helpers import World


def export(world: World) -> str:
    return f"/api/v1/orgs/{world.org}/analytics/export"


def parse(raw: bytes) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


async def rename(client: AsyncTestClient, world: World, name: str) -> None:
    response = await client.put(f"/api/v1/orgs/{world.org}", json={"name": name}, headers=world.owner.auth)
    assert response.status_code == 200, response.text


async def test_export_totals_and_by_day(client: AsyncTestClient, world: World) -> None:
    await rename(client, world, "متجر الرياض")
    response = await client.get(
        export(world), params={"from": "2026-01-01", "to": "2026-01-07"}, headers=world.staff.auth
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"]
        == 'attachment; filename="analytics-2026-01-01-2026-01-07.csv"'
    )
    assert b"\r\n" in response.content
    rows = parse(response.content)
    blank = rows.index([])
    totals = dict(rows[1:blank])
    assert rows[0] == ["metric", "value"]
    assert totals["organization"] == "متجر الرياض"
    assert totals["from"] == "2026-01-01" and totals["to"] == "2026-01-07" and totals["days"] == "7"
    assert totals["sessions"] == "0" and totals["fallback_rate"] == "0.0" and totals["avg_reply_ms"] == ""
    assert set(totals) >= {"messages", "replies", "fallbacks", "feedback_count", "total_tokens"}
    assert rows[blank + 1] == ["date", "sessions", "messages"]
    days = rows[blank + 2 :]
    assert [d[0] for d in days] == [f"2026-01-0{i}" for i in range(1, 8)]
    assert all(d[1:] == ["0", "0"] for d in days)


async def test_formulas_are_neutralised(client: AsyncTestClient, world: World) -> None:
    for name, expected in (
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+SUM(1,2) متجر", "'+SUM(1,2) متجر"),
        ('@HYPERLINK("x")', '\'@HYPERLINK("x")'),
        ("-2+3", "'-2+3"),
    ):
        await rename(client, world, name)
        rows = parse((await client.get(export(world), headers=world.owner.auth)).content)
        assert rows[1] == ["organization", expected]


async def test_access_rules(client: AsyncTestClient, world: World) -> None:
    assert (await client.get(export(world), headers=world.superuser.auth)).status_code == 200
    other = await client.get(export(world), headers=world.other_owner.auth)
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert (await client.get(export(world))).status_code == 401
    missing = await client.get(f"/api/v1/orgs/{uuid.uuid4()}/analytics/export", headers=world.superuser.auth)
    assert missing.status_code == 404
    for params in (
        {"from": "yesterday"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
    ):
        bad = await client.get(export(world), params=params, headers=world.owner.auth)
        assert bad.status_code == 422 and bad.json()["code"] == "validation_error", params
