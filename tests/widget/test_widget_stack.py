"""The widget on the sample site of a real stack (Rasa server + app), in headless Chromium."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Page, expect

from bot.channels.web_history import WebHistory
from bot.core.messages import BotMessage
from bot.db import Database
from bot.stack import ROOT, Stack, running_stack
from bot.templates import TemplateStore
from tests.widget.conftest import Watch, screenshot

pytestmark = pytest.mark.e2e

SHADOW = "document.getElementById('faro-widget').shadowRoot"
FAQ = {e["id"]: e for e in yaml.safe_load((ROOT / "data/faq/bank.yml").read_text())["faqs"]}
TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])


def squash(text: str) -> str:
    return " ".join(str(text).split())


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample status feed the test can change while the app polls it."""
    path = tmp_path_factory.mktemp("feed") / "status.json"
    path.write_text((ROOT / "data/status/sample.json").read_text())
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, feed: Path) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("faro-widget")
    env = {"FARO_STATUS_FEED": str(feed), "FARO_WEB_PUSH_POLL": "1"}
    with running_stack(data_dir, extra_env=env) as running:
        yield running


def set_incident_status(feed: Path, status: str) -> None:
    data: dict[str, Any] = json.loads(feed.read_text())
    for incident in data["incidents"]:
        if incident["id"] == "nw7k2x9card1":
            incident["status"] = status
    feed.write_text(json.dumps(data, indent=1))


def rows(page: Page) -> list[list[str]]:
    return list(
        page.evaluate(
            f"""() => [...{SHADOW}.querySelectorAll('.msg')].map(
                m => [m.className.replace('msg ', ''), m.querySelector('.bubble').textContent])"""
        )
    )


def ask(page: Page, text: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(text)
    box.press("Enter")


def test_sample_site_widget_with_the_real_bot(
    stack: Stack, feed: Path, page: Page, watch: Watch
) -> None:
    page.goto(stack.app_url + "/")
    expect(page).to_have_title(re.compile("Northwind Bank"))
    page.get_by_role("button", name="Open chat").click()
    banner = page.locator(".banner")
    # the sample feed has an open incident: the banner says so, in the status answers' words
    expect(banner).to_contain_text("we have found the cause of a problem")
    expect(banner).to_contain_text("Some card payments are being declined")

    # an FAQ answer
    ask(page, "why can't I pay with my card?")
    answer = squash(FAQ["card-payments-failing"]["answer"]["en"])
    page.wait_for_function(
        f"() => {SHADOW}.querySelectorAll('.msg.bot').length >= 2", timeout=30_000
    )
    assert squash(rows(page)[-1][1]) == answer
    assert rows(page)[-1][0] == "bot"

    # a question the FAQ cannot answer offers a person: press the quick reply
    ask(page, "what's the capital of France?")
    person = page.get_by_role("button", name=TEMPLATES.render("button_human", "en"))
    person.click(timeout=30_000)
    human = squash(TEMPLATES.render("handoff_queued_offline", "en"))
    page.wait_for_function(
        f"() => [...{SHADOW}.querySelectorAll('.msg.bot .bubble')].some("
        "b => b.textContent.includes('0800 123 456'))",
        timeout=30_000,
    )
    assert squash(rows(page)[-1][1]) == human
    # waiting for a person: the next message goes to them, and the widget says so
    ask(page, "are you still there? my card was charged twice")
    held = page.locator(".msg.user .held")
    expect(held).to_have_text("Sent to our team: a person will answer here.", timeout=30_000)
    assert rows(page)[-1][0] == "user"  # the bot did not answer over the person
    screenshot(page, "stack-conversation")

    # reload: the same conversation comes back from the server
    before = rows(page)[1:]  # without the welcome line
    page.reload()
    page.wait_for_function(f"() => {SHADOW}.querySelectorAll('.msg').length >= {len(before)}")
    assert rows(page) == before

    # a message pushed to this conversation (as an incident broadcast would) arrives live
    page.wait_for_function(f"() => {SHADOW}.querySelector('.state').textContent === 'Online'")
    token = page.evaluate("() => localStorage.getItem('faro.session:' + location.origin)")
    history = WebHistory(Database.open(f"sqlite:///{stack.data_dir / 'faro.db'}").engine)
    try:
        history.append(
            "web:" + str(token).split(".")[0],
            "push",
            [BotMessage("Update: card payments are recovering. **Thank you** for your patience.")],
        )
    finally:
        history.dispose()
    page.get_by_text("card payments are recovering").wait_for(timeout=15_000)

    # the status page moves on: the banner changes without a reload
    set_incident_status(feed, "monitoring")
    expect(banner).to_contain_text("a fix is in place", timeout=20_000)
    screenshot(page, "stack-push-and-banner")
    assert watch.dialogs == [] and watch.errors == []


def add_update(feed: Path, body: str, status: str) -> None:
    """The status page posts a new update on the sample incident."""
    data: dict[str, Any] = json.loads(feed.read_text())
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for incident in data["incidents"]:
        if incident["id"] == "nw7k2x9card1":
            update = {
                "id": "u2nw7k2x9" + uuid.uuid4().hex[:3],
                "status": status,
                "body": body,
                "incident_id": incident["id"],
                "created_at": now,
                "updated_at": now,
                "display_at": now,
                "affected_components": [],
            }
            incident["incident_updates"].insert(0, update)
            incident["status"], incident["updated_at"] = status, now
    feed.write_text(json.dumps(data, indent=1))


def test_widget_subscriber_gets_the_next_incident_update_live(
    stack: Stack, feed: Path, page: Page, watch: Watch
) -> None:
    page.goto(stack.app_url + "/")
    page.get_by_role("button", name="Open chat").click()
    ask(page, "notify me of updates")
    confirmed = squash(TEMPLATES.render("subscribe.confirmed", "en"))
    page.wait_for_function(
        f"() => [...{SHADOW}.querySelectorAll('.msg.bot .bubble')].some("
        "b => b.textContent.includes('asked for updates') || b.textContent.includes('Done:'))",
        timeout=30_000,
    )
    assert squash(rows(page)[-1][1]) == confirmed
    page.wait_for_function(f"() => {SHADOW}.querySelector('.state').textContent === 'Online'")

    add_update(
        feed,
        "Card payments are working again for most customers. We will post the next update "
        "within 30 minutes.",
        "monitoring",
    )
    bubble = page.locator(".msg .bubble", has_text="Card payments are working again")
    bubble.wait_for(timeout=30_000)
    [news] = [text for role, text in rows(page) if "working again for most" in text]
    assert news.startswith(TEMPLATES.render("broadcast.headline.update", "en", name="")[:9])
    assert "Next update:" in news and "stop updates" in news
    screenshot(page, "stack-broadcast")
    assert watch.dialogs == [] and watch.errors == []
