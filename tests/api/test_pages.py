"""Section 11: the widget script, the account pages, Swagger UI's local assets, and /demo (dev only)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from kalamna.web.controllers import pages

WIDGET = Path(pages.STATIC / "widget.js")


async def test_widget_script_is_versioned_and_cacheable(client: AsyncTestClient) -> None:
    response = await client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.content == pages.static_file("widget.js")[0]
    version = pages.widget_version()
    assert response.headers["etag"] == f'"{version}"'
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    again = await client.get("/widget.js", headers={"If-None-Match": f'"{version}"'})
    assert again.status_code == 304
    assert again.content == b""
    stale = await client.get("/widget.js", headers={"If-None-Match": '"0000000000000000"'})
    assert stale.status_code == 200
    pinned = await client.get(f"/widget.js?v={version}")
    assert pinned.headers["cache-control"] == "public, max-age=31536000, immutable"
    other = await client.get("/widget.js?v=old")
    assert other.headers["cache-control"] == "public, max-age=300"


def test_widget_source_never_parses_network_text_as_html_and_calls_no_third_party() -> None:
    source = WIDGET.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink
    # The only absolute URL is the SVG namespace: every request goes to the host the script came from.
    assert set(re.findall(r"https?://[\w.-]+[^\s\"'`]*", source)) == {"http://www.w3.org/2000/svg"}
    assert 'attachShadow({ mode: "open" })' in source
    assert len(source.encode()) < 32_000
    assert len(gzip.compress(source.encode())) < 10_000


async def test_account_pages_are_served_with_a_strict_policy(client: AsyncTestClient) -> None:
    for path, title in (
        ("/reset-password", "Choose a new password"),
        ("/accept-invitation", "Join your team"),
    ):
        response = await client.get(path, params={"token": "abc"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert title in response.text
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "abc" not in response.text  # the token is read by the page's script, never echoed
        script = re.search(r'src="(/assets/account\.js\?v=[0-9a-f]{16})"', response.text)
        assert script
        asset = await client.get(script.group(1))
        assert asset.status_code == 200
        assert "innerHTML" not in asset.text


@pytest.mark.slow
async def test_swagger_ui_uses_local_assets(client: AsyncTestClient) -> None:
    page = await client.get("/schema/swagger")
    assert page.status_code == 200
    urls = re.findall(r"(?:src|href)=['\"]([^'\"]+)['\"]", page.text)
    assert urls
    assert all(url.startswith("/assets/swagger/") for url in urls), urls
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 500
    schema = (await client.get("/schema/openapi.json")).json()
    assert {"/widget.js", "/reset-password", "/accept-invitation"} <= set(schema["paths"])


async def test_demo_page_is_not_served_by_the_production_app(client: AsyncTestClient) -> None:
    response = await client.get("/demo")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
