"""The widget in headless Chromium against a real web channel on loopback (scripted bot)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.core.messages import BotMessage
from tests.widget.conftest import Watch, new_page, screenshot
from tests.widget.server import XSS_TEXTS, WidgetServer, incident, widget_server

SHADOW = "document.getElementById('faro-widget').shadowRoot"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WidgetServer]:
    with widget_server(tmp_path / "web.db") as s:
        yield s


def open_widget(page: Page, name: str = "Open chat") -> None:
    page.get_by_role("button", name=re.compile(name)).click()
    expect(page.get_by_role("dialog")).to_be_visible()


def ask(page: Page, text: str, label: str = "Your question") -> None:
    box = page.get_by_label(label)
    box.fill(text)
    box.press("Enter")


def rows(page: Page) -> list[list[str]]:
    """[role, text of the bubble] of every message shown, in order."""
    return list(
        page.evaluate(
            f"""() => [...{SHADOW}.querySelectorAll('.msg')].map(
                m => [m.className.replace('msg ', ''), m.querySelector('.bubble').textContent])"""
        )
    )


def wait_rows(page: Page, n: int) -> list[list[str]]:
    page.wait_for_function(f"() => {SHADOW}.querySelectorAll('.msg').length >= {n}")
    return rows(page)


def session_conversation(page: Page) -> str:
    token = page.evaluate("() => localStorage.getItem('faro.session:' + location.origin)")
    return "web:" + str(token).split(".")[0]


def test_open_ask_quick_reply_and_close_with_the_keyboard(
    server: WidgetServer, page: Page, watch: Watch
) -> None:
    page.goto(server.url + "/")
    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label("Your question")).to_be_focused()
    assert wait_rows(page, 1)[0][0] == "bot"  # the welcome line, once the history is read
    ask(page, "why can't I pay with my card?")
    typing = page.get_by_role("status").filter(has_text="The assistant is typing…")
    expect(typing).to_be_visible()
    page.get_by_text("failing for some customers").wait_for()
    expect(typing).to_be_hidden()
    bubble = page.locator(".msg.bot .bubble").last
    expect(bubble.locator("em")).to_have_text("failing")
    links = bubble.locator("a")
    expect(links).to_have_count(2)
    assert links.nth(0).get_attribute("href") == "https://status.northwind.example/incidents/1"
    assert links.nth(1).get_attribute("href") == "https://status.northwind.example/"
    assert links.nth(1).get_attribute("rel") == "noopener noreferrer nofollow"
    expect(bubble.locator("br")).to_have_count(1)
    ask(page, "something else")
    quick = page.get_by_role("button", name="Talk to a person")
    quick.click()
    page.get_by_text("0800 123 456").wait_for()
    expect(quick).to_be_disabled()  # a used choice cannot be sent twice
    assert server.conversation.turns[-1].payload == "/request_human"
    assert rows(page)[-2] == ["user", "Talk to a person"]
    expect(page.locator(".msg.bot .bubble strong").last).to_have_text("0800 123 456")
    times = page.locator(".msg time")
    assert re.fullmatch(r"\d\d:\d\d( [AP]M)?", times.first.inner_text())
    screenshot(page, "widget-conversation")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()
    assert watch.dialogs == [] and watch.errors == []


def test_reload_brings_the_history_back(server: WidgetServer, page: Page) -> None:
    page.goto(server.url + "/")
    open_widget(page)
    ask(page, "card problems")
    page.get_by_text("failing for some customers").wait_for()
    ask(page, "hmm")
    page.get_by_role("button", name="Talk to a person").wait_for()
    before = rows(page)
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()  # stays open across the reload
    after = wait_rows(page, len(before) - 1)
    assert after == before[1:]  # the same conversation, without the welcome line
    expect(page.get_by_role("button", name="Talk to a person")).to_be_enabled()
    page.get_by_role("button", name="Talk to a person").click()
    page.get_by_text("0800 123 456").wait_for()
    screenshot(page, "widget-after-reload")


def test_pushed_message_unread_badge_and_live_banner(server: WidgetServer, page: Page) -> None:
    page.goto(server.url + "/")
    open_widget(page)
    page.wait_for_function(f"() => {SHADOW}.querySelector('.state').textContent === 'Online'")
    conv = session_conversation(page)
    page.keyboard.press("Escape")
    server.hub.publish(
        conv, BotMessage("Card payments work again. **Thank you** for your patience.")
    )
    badge = page.locator(".badge")
    expect(badge).to_have_text("1")
    launcher = page.get_by_role("button", name=re.compile("Open chat"))
    expect(launcher).to_have_attribute("aria-label", "Open chat (1 unread message)")
    server.hub.publish(None, BotMessage("A broadcast to everyone."))
    expect(badge).to_have_text("2")
    screenshot(page, "widget-unread-badge")
    launcher.click()
    expect(badge).to_be_hidden()
    assert rows(page)[-2:] == [
        ["push", "Card payments work again. Thank you for your patience."],
        ["push", "A broadcast to everyone."],
    ]
    banner = page.locator(".banner")
    expect(banner).to_be_hidden()
    server.set_status(incident("As of 10:00 UTC, we are investigating: Card payments failing."))
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Service incident")
    expect(banner).to_contain_text("we are investigating")
    server.set_status(incident("As of 10:30 UTC, a fix is in place: Card payments.", "monitoring"))
    expect(banner).to_contain_text("a fix is in place")
    expect(banner).to_have_class(re.compile("monitoring"))
    screenshot(page, "widget-banner")
    server.set_status(incident("As of 11:00 UTC, resolved.", "resolved"))
    expect(banner).to_be_hidden()


def test_reconnects_after_a_drop_without_losing_or_repeating(
    server: WidgetServer, page: Page
) -> None:
    page.goto(server.url + "/")
    open_widget(page)
    page.wait_for_function(f"() => {SHADOW}.querySelector('.state').textContent === 'Online'")
    conv = session_conversation(page)
    server.hub.publish(conv, BotMessage("before the drop"))
    page.get_by_text("before the drop").wait_for()
    server.drop_streams()  # every stream ends, as when a proxy cuts them
    page.wait_for_function(f"() => {SHADOW}.querySelector('.state.off')")
    server.hub.publish(conv, BotMessage("during the drop"))
    server.accept_streams()
    page.get_by_text("during the drop").wait_for(timeout=15_000)
    server.hub.publish(conv, BotMessage("after the drop"))
    page.get_by_text("after the drop").wait_for()
    texts = [t for _, t in rows(page)]
    for text in ("before the drop", "during the drop", "after the drop"):
        assert texts.count(text) == 1
    assert texts.index("before the drop") < texts.index("during the drop")


def test_xss_payloads_stay_inert(server: WidgetServer, page: Page, watch: Watch) -> None:
    page.goto(server.url + "/")
    open_widget(page)
    for payload in XSS_TEXTS[:2]:
        ask(page, payload)  # the user's own text
    ask(page, "xss please")
    page.wait_for_function(f"() => {SHADOW}.querySelectorAll('.msg.bot').length >= 7")
    conv = session_conversation(page)
    server.hub.publish(conv, BotMessage(XSS_TEXTS[0]))
    server.set_status(incident(XSS_TEXTS[2] + " " + XSS_TEXTS[1]))
    expect(page.locator(".banner")).to_be_visible()
    page.wait_for_function(f"() => {SHADOW}.querySelectorAll('.msg.push').length >= 1")
    page.get_by_role("button", name=XSS_TEXTS[0]).click()  # a hostile button title
    page.wait_for_timeout(500)
    found = page.evaluate(
        f"""() => {{
            const root = {SHADOW};
            return {{
                pwned: window.__pwned === undefined ? null : window.__pwned,
                img: root.querySelectorAll('img').length + document.querySelectorAll('img').length,
                script: root.querySelectorAll('script').length,
                handlers: [...root.querySelectorAll('*')].filter(
                    e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
                hrefs: [...root.querySelectorAll('a')].map(a => a.getAttribute('href')),
            }};
        }}"""
    )
    assert found["pwned"] is None and watch.dialogs == []
    assert found["img"] == 0 and found["script"] == 0 and found["handlers"] == 0
    assert all(h.startswith(("http://", "https://")) for h in found["hrefs"])
    assert any("<img src=x onerror" in t for _, t in rows(page))  # shown as text
    # a javascript: link is shown as its text, not as a link
    expect(page.locator(".msg.bot .bubble", has_text="click me").locator("a")).to_have_count(0)
    screenshot(page, "widget-xss-inert")
    assert watch.errors == []


@pytest.mark.parametrize(
    ("path", "context", "open_name", "label"),
    [
        ("/page?lang=es", {}, "Abrir chat", "Tu pregunta"),
        ("/page?lang=en&attrs=data-lang%3Des", {}, "Abrir chat", "Tu pregunta"),
        ("/page?lang=", {"locale": "es-ES"}, "Abrir chat", "Tu pregunta"),
        ("/page?lang=", {"locale": "en-GB"}, "Open chat", "Your question"),
    ],
    ids=["html-lang", "data-lang", "browser-es", "browser-en"],
)
def test_ui_language_follows_data_lang_page_or_browser(
    server: WidgetServer,
    browser: Browser,
    watch: Watch,
    path: str,
    context: dict[str, Any],
    open_name: str,
    label: str,
) -> None:
    page = new_page(browser, watch, **context)
    try:
        page.goto(server.url + path)
        open_widget(page, open_name)
        expect(page.get_by_label(label)).to_be_focused()
        if open_name == "Abrir chat":
            expect(page.get_by_role("button", name="Cerrar chat")).to_be_visible()
            screenshot(page, "widget-es")
    finally:
        page.context.close()


def test_rate_limit_is_explained_in_the_widget(tmp_path: Path, page: Page) -> None:
    with widget_server(tmp_path / "limited.db", session_per_minute=2) as server:
        page.goto(server.url + "/")
        open_widget(page)
        for text in ("one", "two", "three"):
            ask(page, text)
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("You are sending messages too fast. Please wait")
        assert len(server.conversation.turns) == 2


def test_mobile_layout_fills_the_screen(
    server: WidgetServer, browser: Browser, watch: Watch
) -> None:
    page = new_page(browser, watch, viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page.goto(server.url + "/")
        open_widget(page)
        box = page.get_by_role("dialog").bounding_box()
        assert box is not None and box["width"] == 390 and box["height"] >= 800
        ask(page, "card")
        page.get_by_text("failing for some customers").wait_for()
        screenshot(page, "widget-mobile")
        page.get_by_role("button", name="Close chat").click()
        expect(page.get_by_role("button", name="Open chat")).to_be_visible()
    finally:
        page.context.close()
