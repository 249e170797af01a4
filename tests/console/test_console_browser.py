"""The console in headless Chromium: the live dashboard, mapping a group, editing a template.

Also: XSS in questions and templates stays inert, axe-core finds no serious or critical
violation on the console's pages. Screenshots go to results/screenshots/ (ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.store import unanswered
from faq_index import Encoder
from tests.admin.conftest import PASSWORD, admin_app
from tests.console.conftest import Console, make_console
from tests.console.test_groups import CARDS_EN, ask
from tests.helpers.live_server import live_server
from tests.widget.conftest import CHROMIUM_ARGS, Watch, chromium_path, new_page

SHOTS = Path(__file__).resolve().parents[2] / "results" / "screenshots"
KEY = "status.incident.identified"
XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def console(tmp_path: Path, model: Encoder) -> Iterator[Console]:
    c = make_console(f"sqlite:///{tmp_path / 'app.db'}", tmp_path, model)
    yield c
    c.client.close()
    c.app_store.dispose()


@pytest.fixture
def url(console: Console) -> Iterator[str]:
    with live_server(admin_app(console)) as base:
        yield base


def shot(page: Page, name: str, *, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def serious(page: Page) -> list[dict[str, Any]]:
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def sign_in(browser: Browser, watch: Watch, url: str, **context: Any) -> Page:
    page = new_page(browser, watch, viewport={"width": 1200, "height": 900}, **context)
    page.goto(url + "/admin/login")
    page.get_by_label("Name or email").fill("Ana")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/admin")
    return page


def asked_earlier(console: Console) -> None:
    """An hour and a half of earlier questions (a card surge building up), for the chart."""
    now = datetime.now(UTC)
    rows = [
        {
            "asked_at": now - timedelta(minutes=m),
            "conversation_id": f"web:{m}-{i}",
            "lang": lang,
            "text": text,
            "normalized": " ".join(text.lower().split()),
        }
        for m in range(1, 90)
        for i, (text, lang) in enumerate(
            [(CARDS_EN[m % 4], "en")] * (1 + (90 - m) // 12)
            + [("I cannot sign in to the app", "en")] * (m % 3 == 0)
            + [("¿cuándo vuelve la app?", "es")] * (m % 4 == 0)
        )
    ]
    with console.app_store.engine.begin() as conn:
        conn.execute(unanswered.insert(), rows)


def test_the_dashboard_updates_without_reload_when_a_question_arrives(
    browser: Browser, console: Console, url: str
) -> None:
    watch = Watch()
    asked_earlier(console)
    page = sign_in(browser, watch, url)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    expect(page.locator("#rates svg")).to_be_visible(timeout=15_000)
    page.evaluate("window.__same_document = true")
    ask(console, ["my transfer did not arrive", "the transfer I sent is missing"], "en", times=5)
    ask(console, [XSS], "en")
    expect(page.locator("#groups")).to_contain_text("transfer", timeout=20_000)
    expect(page.locator("#groups")).to_contain_text("<img src=x", timeout=20_000)  # as text
    assert page.evaluate("window.__same_document") is True  # no reload happened
    told = page.locator("#told")
    expect(told).to_contain_text(console.status.answer("", "en").text)
    assert "as of" in told.inner_text()
    shot(page, "console-dashboard")
    assert serious(page) == []
    page.set_viewport_size({"width": 390, "height": 800})
    shot(page, "console-dashboard-phone")
    assert watch.dialogs == [] and watch.errors == [] and blocked == []
    page.context.close()


def test_map_a_group_in_the_browser_then_the_bot_answers(
    browser: Browser, console: Console, url: str
) -> None:
    watch = Watch()
    questions = ["my transfer did not arrive", "the transfer I sent is missing"]
    ask(console, questions, "en", times=2)
    ask(console, ["do you sell bikes", "can I buy a bicycle from you"], "en")
    ask(console, [XSS], "en")
    page = sign_in(browser, watch, url)
    page.get_by_role("link", name="Unanswered", exact=True).click()
    group = page.locator("li.group", has_text="transfer")
    expect(group).to_be_visible()
    shot(page, "console-unanswered")
    assert serious(page) == []
    group.get_by_label("Answered by").select_option("when-fixed")
    group.get_by_role("button", name="Map the group").click()
    expect(page.get_by_role("status")).to_contain_text("the bot answers these questions now")
    expect(page.locator("li.group", has_text="transfer")).to_have_count(0)
    for q in questions:
        decision = console.faq.decide(q, "en")
        assert decision.kind == "answer" and decision.best is not None
        assert decision.best.entry.id == "when-fixed"
    page.locator("li.group", has_text="bikes").get_by_role("button", name="Not ours").click()
    expect(page.locator("li.group", has_text="bikes")).to_have_count(0)
    assert watch.dialogs == [] and watch.errors == []
    page.context.close()


def test_edit_a_template_refused_then_saved_then_rolled_back(
    browser: Browser, console: Console, url: str
) -> None:
    watch = Watch()
    page = sign_in(browser, watch, url)
    page.get_by_role("link", name="Templates", exact=True).click()
    shot(page, "console-templates", full=False)
    assert serious(page) == []
    page.get_by_role("link", name=KEY).click()
    english = page.get_by_label("en", exact=True)
    english.fill("As of {as_of}, we found it: {incident_name}.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("{incident_name}")
    english = page.get_by_label("en", exact=True)
    english.fill("As of {as_of}: we know the cause of {name} and are fixing it. " + XSS)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("section.preview.telegram").first).to_contain_text("Card payments delayed")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    shot(page, "console-template-edit")
    assert serious(page) == []
    answer = console.status.answer("", "en").text
    assert answer.startswith("As of ") and "we know the cause of" in answer
    page.locator("form[action$='/rollback'] button").last.click()  # the seeded version
    expect(page.get_by_role("status")).to_contain_text("Saved")
    assert "we know the cause of" not in console.status.answer("", "en").text
    assert watch.dialogs == [] and watch.errors == []
    page.context.close()
