"""The widget in a real Chromium, embedded by a host page on another origin than the API."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Stack, query

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser-widget")]

QUESTION = "What are your opening hours?"


def widget(page: Any) -> Any:
    """The widget's shadow root (open): Playwright's locators pierce it."""
    return page.locator("kalamna-widget")


def open_widget(page: Any, url: str) -> Any:
    page.goto(url)
    root = widget(page)
    launcher = root.get_by_role("button", name=re.compile("chat|Nour", re.I))
    expect(launcher).to_be_visible()
    launcher.click()
    return root


def stored_session(page: Any, stack: Stack) -> dict[str, Any]:
    raw = page.evaluate("key => localStorage.getItem('kalamna:' + key)", stack.key)
    assert raw, "no session in localStorage"
    value: dict[str, Any] = json.loads(raw)
    return value


def test_welcome_suggestion_streamed_reply_sources_feedback_and_history(page: Any, stack: Stack) -> None:
    root = open_widget(page, stack.host_page("/shop"))
    log = root.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).to_contain_text("Hi, I'm Nour from Nile Coffee!")
    expect(root.get_by_role("button", name="Open chat with Nour")).to_have_attribute("aria-expanded", "true")
    expect(root.get_by_role("textbox")).to_be_focused()

    with page.expect_response(re.compile(r"/api/v1/chat/sessions/[^/]+/messages$")) as answered:
        root.get_by_role("button", name=QUESTION, exact=True).click()
    response = answered.value
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.request.all_headers()["origin"] == stack.host.url
    reply = log.locator(".m.bot").nth(1)
    expect(reply).to_contain_text("open every day from 8 am to 11 pm")
    expect(reply.get_by_role("list", name="Sources:")).to_contain_text("Opening hours")
    expect(log.locator(".m.user")).to_have_text(QUESTION)
    # The suggestions are gone once the conversation started.
    expect(root.get_by_role("button", name=QUESTION, exact=True)).to_be_hidden()

    session = stored_session(page, stack)
    helpful = reply.get_by_role("button", name="Helpful", exact=True)
    with page.expect_response(re.compile(r"/feedback$")) as rated:
        helpful.click()
    assert rated.value.status == 201
    expect(helpful).to_have_attribute("aria-pressed", "true")
    expect(reply.get_by_role("button", name="Not helpful", exact=True)).to_be_disabled()
    rows = query(
        stack.settings.database_url,
        "SELECT f.rating, m.role, m.content FROM chat_feedback f JOIN chat_messages m ON m.id = f.message_id "
        "WHERE f.session_id = $1",
        __import__("uuid").UUID(session["id"]),
    )
    assert [(r["rating"], r["role"]) for r in rows] == [(5, "assistant")]
    assert "8 am to 11 pm" in rows[0]["content"]

    # After a reload the panel opens again and shows the same conversation.
    page.reload()
    root = widget(page)
    log = root.get_by_role("log")
    expect(log.locator(".m.user")).to_have_text(QUESTION)
    expect(log.locator(".m.bot").nth(1)).to_contain_text("open every day from 8 am to 11 pm")
    expect(log.locator(".m.bot").nth(1).get_by_role("button", name="Helpful", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    assert stored_session(page, stack)["id"] == session["id"]


def test_arabic_text_and_arabic_page_are_right_to_left(page: Any, stack: Stack) -> None:
    root = open_widget(page, stack.host_page("/ar", lang="ar"))
    panel = root.get_by_role("dialog")
    assert panel.evaluate("el => getComputedStyle(el).direction") == "rtl"
    expect(root.get_by_role("button", name=re.compile("موظف"))).to_be_visible()
    box = root.get_by_role("textbox")
    box.fill("ما هي سياسة الإرجاع؟")
    box.press("Enter")
    log = root.get_by_role("log")
    question = log.locator(".m.user")
    expect(question).to_have_text("ما هي سياسة الإرجاع؟")
    assert question.evaluate("el => getComputedStyle(el).direction") == "rtl"
    reply = log.locator(".m.bot").nth(1)
    expect(reply).to_contain_text("14 يومًا")
    assert reply.evaluate("el => getComputedStyle(el).direction") == "rtl"
    # The layout is mirrored: the customer's bubble sits at the left edge of an RTL panel.
    panel_box, bubble_box = panel.bounding_box(), question.bounding_box()
    assert bubble_box["x"] - panel_box["x"] < 40


def test_arabic_question_on_an_english_page_is_shown_right_to_left(page: Any, stack: Stack) -> None:
    root = open_widget(page, stack.host_page("/en-ar"))
    assert root.get_by_role("dialog").evaluate("el => getComputedStyle(el).direction") == "ltr"
    root.get_by_role("button", name="ما هي سياسة الإرجاع؟", exact=True).click()
    question = root.get_by_role("log").locator(".m.user")
    expect(question).to_have_text("ما هي سياسة الإرجاع؟")
    assert question.evaluate("el => getComputedStyle(el).direction") == "rtl"


def test_origin_not_allowed_gets_a_polite_error(page: Any, stack: Stack) -> None:
    root = open_widget(page, stack.host_page("/elsewhere", stranger=True))
    expect(root.get_by_role("alert")).to_have_text(
        "Sorry, the chat can't be reached from this page right now."
    )
    expect(root.get_by_role("textbox")).to_be_disabled()
    expect(page.get_by_role("heading", name="Our shop")).to_be_visible()  # the host page still works


def test_wrong_api_key_gets_a_polite_error(page: Any, stack: Stack) -> None:
    stack.host.pages["/badkey"] = f"<!doctype html><html><body>{stack.snippet('klm_not-a-key')}</body></html>"
    root = open_widget(page, stack.host.url + "/badkey")
    expect(root.get_by_role("alert")).to_have_text(
        "Sorry, the chat can't be reached from this page right now."
    )
    expect(root.get_by_role("textbox")).to_be_disabled()


def test_knowledge_with_markup_is_shown_as_text_and_runs_nothing(page: Any, stack: Stack) -> None:
    payload = '<img src=x onerror="window.__pwned=1">'
    stack.add_entry(
        f"Gift cards {payload}",
        f"Gift cards: we sell gift cards of 200 EGP and 500 EGP {payload} at every café.",
    )
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    root = open_widget(page, stack.host_page("/xss"))
    box = root.get_by_role("textbox")
    box.fill("Do you sell gift cards?")
    box.press("Enter")
    reply = root.get_by_role("log").locator(".m.bot").nth(1)
    expect(reply).to_contain_text("gift cards of 200 EGP")
    expect(reply).to_contain_text(payload)
    expect(reply.get_by_role("list")).to_contain_text(f"Gift cards {payload}")
    assert root.locator("img").count() == 0
    assert page.locator("img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert not [url for url in requested if url.endswith("/x")]


HOSTILE_CSS = """
* { font-family: "Comic Sans MS", cursive !important; font-size: 31px !important; color: red !important;
    background: yellow !important; line-height: 3 !important; letter-spacing: 4px !important; }
button, div, section, input { display: none !important; padding: 40px !important; }
kalamna-widget { color: red; font-size: 40px; direction: rtl; }
.p, .l, .m { position: static; background: lime; }
"""


def test_host_page_css_does_not_change_the_widget(page: Any, stack: Stack) -> None:
    body = '<div class="m" id="host-m">host text</div>'
    root = open_widget(page, stack.host_page("/hostile", css=HOSTILE_CSS, body=body))
    launcher = root.get_by_role("button", name="Open chat with Nour")
    style = launcher.evaluate(
        "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.width, s.display]; }"
    )
    assert style == ["rgb(15, 118, 110)", "58px", "grid"]
    welcome = root.get_by_role("log").locator(".m.bot").first
    text_style = welcome.evaluate(
        "el => { const s = getComputedStyle(el);"
        " return [s.fontSize, s.color, s.backgroundColor, s.letterSpacing, s.direction]; }"
    )
    assert text_style == ["15px", "rgb(31, 35, 40)", "rgb(255, 255, 255)", "normal", "ltr"]
    assert "Comic" not in welcome.evaluate("el => getComputedStyle(el).fontFamily")
    # ... and the widget's styles do not leak out to the host page's own elements.
    host = page.locator("#host-m").evaluate("el => getComputedStyle(el).borderRadius")
    assert host == "0px"


def test_keyboard_only(page: Any, stack: Stack) -> None:
    page.goto(stack.host_page("/keyboard"))
    root = widget(page)
    launcher = root.get_by_role("button", name="Open chat with Nour")
    expect(launcher).to_be_visible()
    page.keyboard.press("Tab")
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    box = root.get_by_role("textbox")
    expect(box).to_be_focused()
    page.keyboard.type("How much does delivery cost?")
    page.keyboard.press("Enter")
    expect(root.get_by_role("log").locator(".m.bot").nth(1)).to_contain_text("50 EGP")
    page.keyboard.press("Escape")
    expect(root.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def _fulfil_messages(
    page: Any, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    def handle(route: Any) -> None:
        if route.request.method == "POST":
            route.fulfill(
                status=status,
                body=json.dumps(body),
                headers={
                    "Content-Type": "application/json",
                    "Access-Control-Allow-Origin": "*",
                    **(headers or {}),
                },
            )
        else:
            route.continue_()

    page.route(re.compile(r"/api/v1/chat/sessions/[^/]+/messages$"), handle)


def test_rate_limited_message_says_when_to_retry_and_keeps_the_text(page: Any, stack: Stack) -> None:
    _fulfil_messages(
        page,
        429,
        {"status_code": 429, "code": "rate_limited", "detail": "Too many requests."},
        {"Retry-After": "17", "Access-Control-Expose-Headers": "Retry-After"},
    )
    root = open_widget(page, stack.host_page("/slow"))
    box = root.get_by_role("textbox")
    box.fill("Hello?")
    box.press("Enter")
    expect(root.get_by_role("alert")).to_have_text(
        "You are sending messages too quickly. Please try again in 17 seconds."
    )
    expect(box).to_have_value("Hello?")
    expect(root.get_by_role("log").locator(".m.user")).to_have_count(0)


def test_unavailable_assistant_is_explained(page: Any, stack: Stack) -> None:
    _fulfil_messages(page, 503, {"status_code": 503, "code": "llm_unavailable", "detail": "Down."})
    root = open_widget(page, stack.host_page("/down"))
    box = root.get_by_role("textbox")
    box.fill("Hello?")
    box.press("Enter")
    expect(root.get_by_role("alert")).to_have_text(
        "The assistant is unavailable right now. Your message was kept; please try again in a moment."
    )
    expect(root.get_by_role("log").locator(".m.user")).to_have_text("Hello?")


def test_offline_is_explained(page: Any, stack: Stack) -> None:
    root = open_widget(page, stack.host_page("/offline"))
    expect(root.get_by_role("log")).to_contain_text("Nour from Nile Coffee")
    page.context.set_offline(True)
    box = root.get_by_role("textbox")
    box.fill("Are you there?")
    box.press("Enter")
    expect(root.get_by_role("alert")).to_have_text(
        "You seem to be offline. Check your connection and try again."
    )
    expect(box).to_have_value("Are you there?")
    page.context.set_offline(False)


def test_live_events_contract_against_a_canned_stream(page: Any, stack: Stack) -> None:
    """The widget's handover client against section 7's contract, with the routes answered by the test
    (the real routes are exercised by test_widget_handover.py)."""
    calls: list[str] = []

    def events(route: Any) -> None:
        calls.append(route.request.headers.get("x-session-token", ""))
        sid = route.request.url.split("/sessions/")[1].split("/")[0]
        agent = {
            "id": "0190aaaa-0000-7000-8000-000000000001",
            "session_id": sid,
            "role": "agent",
            "content": "Hello, this is Salma. <b>How</b> can I help?",
            "sources": [],
            "author_name": "Salma",
            "created_at": "2026-11-22T09:00:00Z",
        }
        body = (
            ": keep-alive\n\n"
            'event: mode\ndata: {"mode": "human", "agent_name": "Salma"}\n\n'
            f"event: message\ndata: {json.dumps(agent)}\n\n"
            "event: closed\ndata: {}\n\n"
        )
        route.fulfill(
            status=200,
            body=body,
            headers={"Content-Type": "text/event-stream", "Access-Control-Allow-Origin": stack.host.url},
        )

    def handover(route: Any) -> None:
        sid = route.request.url.split("/sessions/")[1].split("/")[0]
        route.fulfill(
            status=200,
            body=json.dumps({"session_id": sid, "mode": "waiting"}),
            headers={"Content-Type": "application/json", "Access-Control-Allow-Origin": stack.host.url},
        )

    page.route(re.compile(r"/handover$"), handover)
    root = open_widget(page, stack.host_page("/live"))
    page.route(re.compile(r"/events$"), events)
    root.get_by_role("button", name="Talk to a person").click()
    log = root.get_by_role("log")
    agent = log.locator(".m.agent")
    expect(agent).to_contain_text("Hello, this is Salma. <b>How</b> can I help?")
    expect(agent.locator(".who")).to_have_text("Salma")
    expect(root.get_by_role("status")).to_contain_text("This conversation has ended.")
    box = root.get_by_role("textbox")
    expect(box).to_be_disabled()
    assert calls and calls[0] == stored_session(page, stack)["token"]
    root.get_by_role("button", name="Start a new conversation").click()
    expect(box).to_be_enabled()
    expect(box).to_be_focused()
    expect(log.locator(".m")).to_have_count(1)  # only the welcome message again


def test_demo_page_serves_the_widget(page: Any, stack: Stack) -> None:
    page.goto(stack.api + "/demo")
    expect(page.get_by_text('data-api-key="klm_')).to_be_visible()
    root = widget(page)
    root.get_by_role("button", name="Open chat with Nour").click()
    root.get_by_role("button", name="How much does delivery cost?").click()
    expect(root.get_by_role("log").locator(".m.bot").nth(1)).to_contain_text("50 EGP")
    page.goto(stack.api + "/demo?lang=ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(widget(page).get_by_role("button", name="افتح المحادثة مع Nour")).to_be_visible()


def test_real_rate_limit_answer_is_readable_from_the_host_origin(page: Any, stack: Stack) -> None:
    """The API's own 429 (not a canned one): CORS exposes Retry-After to the widget."""
    root = open_widget(page, stack.host_page("/limit"))
    box = root.get_by_role("textbox")
    box.fill("How much does delivery cost?")
    box.press("Enter")
    expect(root.get_by_role("log").locator(".m.bot").nth(1)).to_contain_text("50 EGP")
    session = stored_session(page, stack)
    headers = {"X-API-Key": stack.key, "X-Session-Token": session["token"]}
    url = f"{stack.api}/api/v1/chat/sessions/{session['id']}/messages"
    statuses = {
        stack.client.post(url, json={"content": f"question {i}"}, headers=headers).status_code
        for i in range(29)
    }
    assert statuses == {201}
    box.fill("One more?")
    with page.expect_response(re.compile(r"/messages$")) as limited:
        box.press("Enter")
    assert limited.value.status == 429
    retry = limited.value.headers["retry-after"]
    assert "retry-after" in limited.value.headers["access-control-expose-headers"]
    expect(root.get_by_role("alert")).to_have_text(
        f"You are sending messages too quickly. Please try again in {max(1, int(retry))} seconds."
    )
    expect(box).to_have_value("One more?")
