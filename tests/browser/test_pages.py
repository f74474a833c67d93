"""The account pages complete real emailed links; Swagger UI loads with no request off this machine."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, Stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser-pages")]

LINK = re.compile(r"https?://\S+")


def test_password_reset_link_completes_on_the_reset_page(page: Any, stack: Stack) -> None:
    sent = time.time() - 1
    response = stack.client.post(
        f"{stack.api}/api/v1/auth/password/forgot", json={"email": stack.owner_email}
    )
    assert response.status_code == 202
    link = LINK.findall(stack.mail_to(stack.owner_email, after=sent))[-1]
    # The link names the address this server really listens on.
    assert link.startswith(f"{stack.api}/reset-password?token=")
    page.goto(link)
    expect(page.get_by_role("status")).to_have_text("Choose a new password of 8 to 128 characters.")
    page.get_by_label("New password").fill("short")
    page.get_by_label("Repeat the password").fill("short")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("status")).to_have_text("The password must have at least 8 characters.")
    page.get_by_label("New password").fill("a fresh espresso every morning")
    page.get_by_label("Repeat the password").fill("a fresh espresso every morning")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your password has been changed. You can sign in with it now."
    )
    assert stack.login(stack.owner_email, "a fresh espresso every morning")
    stack.owner_password = "a fresh espresso every morning"
    stack._token = None
    # The link works once.
    page.goto(link)
    expect(page.get_by_role("status")).to_have_text(
        "This link is invalid or has expired. Ask for a new password-reset email."
    )
    expect(page.locator("form")).to_be_hidden()


def test_invitation_link_completes_on_the_invitation_page(page: Any, stack: Stack) -> None:
    sent = time.time() - 1
    response = stack.client.post(
        f"{stack.api}/api/v1/orgs/{stack.org}/employee/invitations",
        json={"email": "barista@example.com", "role": "staff"},
        headers=stack.auth,
    )
    assert response.status_code == 201, response.text
    link = LINK.findall(stack.mail_to("barista@example.com", after=sent))[-1]
    assert link.startswith(f"{stack.api}/accept-invitation?token=")
    page.goto(link)
    expect(page.get_by_role("status")).to_have_text(
        "Demo Owner invited barista@example.com to join Nile Coffee Roasters as staff."
    )
    page.get_by_label("Your full name").fill("Mona Barista")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD + "!")
    page.get_by_role("button", name="Join the team").click()
    expect(page.get_by_role("status")).to_have_text("The two passwords are not the same.")
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Join the team").click()
    expect(page.get_by_role("status")).to_have_text(
        "Welcome, Mona Barista! Your account is active: sign in as barista@example.com."
    )
    assert stack.login("barista@example.com", PASSWORD)


def test_account_pages_without_a_valid_token(page: Any, stack: Stack) -> None:
    page.goto(f"{stack.api}/accept-invitation?token=nope")
    expect(page.get_by_role("status")).to_have_text(
        "This invitation is invalid, was already used, or has expired. Ask for a new one."
    )
    page.goto(f"{stack.api}/reset-password")
    expect(page.get_by_role("status")).to_have_text("This link is incomplete: it has no token.")
    expect(page.locator("form")).to_be_hidden()


def test_swagger_ui_loads_with_no_request_off_this_server(page: Any, stack: Stack) -> None:
    hosts: list[str] = []

    def only_local(route: Any) -> None:
        url = urlparse(route.request.url)
        hosts.append(url.netloc)
        if url.netloc == urlparse(stack.api).netloc:
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{stack.api}/schema/swagger")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Kalamna API")
    expect(page.get_by_text("/api/v1/chat/config").first).to_be_visible()
    assert set(hosts) == {urlparse(stack.api).netloc}
