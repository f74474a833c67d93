"""Section 11 of the contract: the widget script, the account pages, and Swagger UI's local assets.

The widget is one static file (``web/static/widget.js``): no build step. It is versioned by an ETag
(the hash of its bytes); ``/widget.js?v=<that hash>`` may be cached for a year.
"""

from __future__ import annotations

import hashlib
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from swagger_ui_bundle import swagger_ui_path

STATIC = Path(__file__).resolve().parent.parent / "static"
SWAGGER_ASSETS = "/assets/swagger"


@cache
def static_file(name: str) -> tuple[bytes, str]:
    """The bytes of a bundled static file and its version (the first 16 hex digits of its SHA-256)."""
    data = (STATIC / name).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


def widget_version() -> str:
    return static_file("widget.js")[1]


def _static_response(request: Request[Any, Any, Any], name: str, media_type: str) -> Response[bytes]:
    data, version = static_file(name)
    etag = f'"{version}"'
    immutable = request.query_params.get("v") == version
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable" if immutable else "public, max-age=300",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(b"", status_code=304, headers=headers, media_type=media_type)
    return Response(data, headers=headers, media_type=media_type)


@get("/widget.js", tags=["pages"], summary="The embeddable chat widget", sync_to_thread=False)
def widget_script(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _static_response(request, "widget.js", "text/javascript")


@get("/assets/account.js", tags=["pages"], include_in_schema=False, sync_to_thread=False)
def account_script(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _static_response(request, "account.js", "text/javascript")


PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",  # the token is in the address
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

PAGE_STYLE = """
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans Arabic",sans-serif;
color:#1f2328;background:#f6f7f9}
main{max-width:420px;margin:8vh auto;background:#fff;padding:28px;border-radius:14px;
box-shadow:0 6px 24px rgba(0,0,0,.08)}
h1{font-size:22px;margin:0 0 12px}
label{display:block;margin:14px 0 4px;font-weight:600}
input{width:100%;box-sizing:border-box;font:inherit;padding:9px 11px;border:1px solid #d0d7de;
border-radius:8px}
button{margin-top:18px;width:100%;font:inherit;padding:10px;border:0;border-radius:8px;background:#0F766E;
color:#fff;cursor:pointer}
button:disabled{opacity:.6}
:focus-visible{outline:3px solid #2563eb;outline-offset:2px}
.error{color:#b42318}
.ok{color:#067647}
"""


def _page(title: str, page: str, form: str) -> Response[str]:
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Kalamna</title><style>{PAGE_STYLE}</style></head>"
        f'<body><main data-page="{page}"><h1>{escape(title)}</h1>'
        f'<p id="status" role="status">Checking your link…</p>{form}</main>'
        f'<script src="/assets/account.js?v={static_file("account.js")[1]}"></script></body></html>'
    )
    return Response(body, media_type="text/html", headers=PAGE_HEADERS)


PASSWORD_FIELDS = (
    '<label for="password">New password</label>'
    '<input id="password" name="password" type="password" autocomplete="new-password" '
    'minlength="8" maxlength="128" required>'
    '<label for="confirm">Repeat the password</label>'
    '<input id="confirm" name="confirm" type="password" autocomplete="new-password" '
    'minlength="8" maxlength="128" required>'
)


@get("/reset-password", tags=["pages"], summary="Complete a password reset link", sync_to_thread=False)
def reset_password_page() -> Response[str]:
    form = (
        f'<form id="form" hidden novalidate>{PASSWORD_FIELDS}'
        '<button type="submit">Save the new password</button></form>'
    )
    return _page("Choose a new password", "reset", form)


@get("/accept-invitation", tags=["pages"], summary="Complete an invitation link", sync_to_thread=False)
def accept_invitation_page() -> Response[str]:
    form = (
        '<form id="form" hidden novalidate><label for="full_name">Your full name</label>'
        '<input id="full_name" name="full_name" autocomplete="name" maxlength="200" required>'
        f'{PASSWORD_FIELDS}<button type="submit">Join the team</button></form>'
    )
    return _page("Join your team on Kalamna", "invitation", form)


def swagger_plugin() -> SwaggerRenderPlugin:
    """Swagger UI from the ``swagger-ui-bundle-v2`` package's files, served here: no CDN."""
    return SwaggerRenderPlugin(
        path="/swagger",
        js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>",
    )


def page_handlers() -> list[ControllerRouterHandler]:
    swagger_assets = create_static_files_router(
        path=SWAGGER_ASSETS,
        directories=[Path(str(swagger_ui_path))],
        include_in_schema=False,
        cache_control=None,
        name="swagger-assets",
    )
    return [widget_script, account_script, reset_password_page, accept_invitation_page, swagger_assets]
