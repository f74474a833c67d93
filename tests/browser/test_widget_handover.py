"""Handover in the widget against the real routes of sections 7 and 10."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Stack
from tests.browser.test_widget import open_widget, stored_session

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser-handover")]


def conversation(stack: Stack, session_id: str) -> str:
    return f"{stack.api}/api/v1/orgs/{stack.org}/conversations/{session_id}"


def test_talk_to_a_person_agent_reply_arrives_live_then_closed(page: Any, stack: Stack) -> None:
    root = open_widget(page, stack.host_page("/handover"))
    log = root.get_by_role("log")
    root.get_by_role("button", name="Talk to a person").click()
    expect(root.get_by_role("status")).to_have_text("Waiting for a person to join…")
    session = stored_session(page, stack)
    seen = stack.client.get(conversation(stack, session["id"]), headers=stack.auth)
    assert seen.status_code == 200, seen.text
    assert seen.json()["mode"] == "waiting"

    # While a person is awaited the bot stays silent: the message is stored, no reply bubble.
    box = root.get_by_role("textbox")
    box.fill("I need help with my order")
    box.press("Enter")
    expect(log.locator(".m.user")).to_have_text("I need help with my order")
    page.wait_for_timeout(500)
    expect(log.locator(".m.bot")).to_have_count(1)  # the welcome message only

    sent = stack.client.post(
        f"{conversation(stack, session['id'])}/messages",
        json={"content": "Hi, Demo here. Let me check."},
        headers=stack.auth,
    )
    assert sent.status_code == 201, sent.text
    agent = log.locator(".m.agent")
    expect(agent).to_contain_text("Hi, Demo here. Let me check.")
    expect(agent.locator(".who")).to_have_text("Demo Owner")
    expect(root.get_by_role("status")).to_have_text("You are chatting with Demo Owner")

    closed = stack.client.post(f"{conversation(stack, session['id'])}/close", headers=stack.auth)
    assert closed.status_code == 200, closed.text
    expect(root.get_by_role("status")).to_contain_text("This conversation has ended.")
    expect(box).to_be_disabled()
    root.get_by_role("button", name="Start a new conversation").click()
    expect(box).to_be_enabled()


def test_agent_messages_sent_during_a_network_drop_arrive_after_it(page: Any, stack: Stack) -> None:
    root = open_widget(page, stack.host_page("/drop"))
    root.get_by_role("button", name="Talk to a person").click()
    expect(root.get_by_role("status")).to_have_text("Waiting for a person to join…")
    session = stored_session(page, stack)
    page.wait_for_timeout(500)  # the events stream is open
    page.context.set_offline(True)
    page.wait_for_timeout(500)
    sent = stack.client.post(
        f"{conversation(stack, session['id'])}/messages",
        json={"content": "Are you still there?"},
        headers=stack.auth,
    )
    assert sent.status_code == 201, sent.text
    page.context.set_offline(False)
    expect(root.get_by_role("log").locator(".m.agent")).to_contain_text(
        "Are you still there?", timeout=45_000
    )
    expect(root.get_by_role("log").locator(".m.agent")).to_have_count(1)
