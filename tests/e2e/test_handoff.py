"""End to end through a real Rasa server: a customer asks for a person on the web chat,
Telegram and Slack (loopback fakes), in English and Spanish; an agent claims and replies over
the staff API; the customer's next message reaches the agent with no bot reply; after the
hand-back the bot answers again."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.channels.slack.markup import escape
from bot.channels.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from bot.stack import ROOT, Stack, running_stack
from bot.templates import TemplateStore
from tests.helpers.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM_ID,
    MockSlackApi,
    dm,
    running_slack_api,
    signed_headers,
)
from tests.helpers.telegram_builders import message_update
from tests.helpers.telegram_fake import TOKEN, FakeBotApi
from tests.widget.conftest import CHROMIUM_ARGS, chromium_path, screenshot

pytestmark = pytest.mark.e2e

TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])
STAFF_TOKEN = "e2e-staff-token"
TG_SECRET = "e2e-telegram-secret"
AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}


@dataclass
class Rig:
    stack: Stack
    telegram: FakeBotApi
    slack: MockSlackApi

    def staff(self, method: str, path: str, **body: Any) -> httpx.Response:
        url = self.stack.app_url + "/api/staff" + path
        return self.stack.client.request(method, url, json=body or None, headers=AUTH)

    def waiting(self, conversation_id: str) -> dict[str, Any]:
        listed = self.staff("GET", "/handoffs?state=waiting").json()["handoffs"]
        [found] = [h for h in listed if h["conversation_id"] == conversation_id]
        return dict(found)

    def transcript(self, handoff_id: int) -> list[tuple[str, str]]:
        found = self.staff("GET", f"/handoffs/{handoff_id}").json()
        return [(m["role"], m["text"]) for m in found["transcript"]]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    data_dir: Path = tmp_path_factory.mktemp("faro-handoff-e2e")
    with FakeBotApi().running() as telegram, running_slack_api() as slack:
        extra = {
            "FARO_ADMIN_TOKEN": STAFF_TOKEN,
            "FARO_TELEGRAM_TOKEN": TOKEN,
            "FARO_TELEGRAM_SECRET": TG_SECRET,
            "FARO_TELEGRAM_API_URL": telegram.url,
            "FARO_SLACK_BOT_TOKEN": BOT_TOKEN,
            "FARO_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "FARO_SLACK_API_URL": slack.url,
        }
        with running_stack(data_dir, extra_env=extra) as stack:
            yield Rig(stack, telegram, slack)


def until(predicate: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def rasa_tracker(stack: Stack, conversation_id: str) -> dict[str, Any]:
    """The conversation's tracker, from Rasa's HTTP API (behind the action token)."""
    url = f"{stack.rasa_urls[0]}/conversations/{conversation_id}/tracker"
    response = stack.client.get(url, params={"token": stack.action_token})
    response.raise_for_status()
    return dict(response.json())


def assert_queue_message(text: str, lang: str, figures: dict[str, Any]) -> None:
    """Nobody online: says so, with the contact options; else agents online, the place and
    the wait (estimated once three handoffs were picked up: seconds each here, so 1 min)."""
    online = figures["agents_online"]
    if online == 0:
        assert text == TEMPLATES.render("handoff_queued_offline", lang)
    else:
        if figures["handled_today"] >= 3:
            wait = TEMPLATES.render("handoff_wait_minutes", lang, minutes=1)
        else:
            wait = TEMPLATES.render("handoff_wait_unknown", lang)
        expected = TEMPLATES.render("handoff_queued", lang, agents=online, place=1, wait=wait)
        assert text == expected


def agent_round(
    rig: Rig, conversation_id: str, lang: str, *, say: Callable[[str], None],
    seen: Callable[[], list[str]], said_to_person: str,
) -> None:  # fmt: skip
    """Claim, reply, the customer's message reaches the agent only, release, bot again."""
    handoff = rig.waiting(conversation_id)
    assert (handoff["lang"], handoff["state"], handoff["claimed_by"]) == (lang, "waiting", None)
    hid = handoff["id"]
    claimed = rig.staff("POST", f"/handoffs/{hid}/claim", agent="Ana")
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "Ana"
    assert rig.staff("POST", f"/handoffs/{hid}/claim", agent="Bob").status_code == 409
    joined = TEMPLATES.render("handoff_claimed", lang, agent="Ana")
    until(lambda: joined in seen(), "the claim notice")
    reply = rig.staff("POST", f"/handoffs/{hid}/reply", agent="Ana", text="Hi <b>there</b> & hello")
    assert reply.status_code == 200, reply.text
    until(lambda: "Hi <b>there</b> & hello" in seen(), "the agent's reply")
    before = len(seen())
    say(said_to_person)
    until(lambda: ("user", said_to_person) in rig.transcript(hid), "the message at the agent")
    time.sleep(1.5)  # the bot would have answered by now
    assert len(seen()) == before, seen()[before:]
    released = rig.staff("POST", f"/handoffs/{hid}/release", agent="Ana")
    assert released.status_code == 200 and released.json()["outcome"] == "released"
    back = TEMPLATES.render("handoff_released", lang)
    until(lambda: back in seen(), "the hand-back notice")
    count = len(seen())
    say("hola" if lang == "es" else "hello")
    until(lambda: len(seen()) > count, "the bot's answer after the hand-back")
    assert seen()[-1] == TEMPLATES.render("greet", lang)


@pytest.mark.parametrize(
    ("ask", "lang"), [("I want to talk to a person", "en"), ("quiero hablar con una persona", "es")]
)
def test_web_chat_handoff(rig: Rig, ask: str, lang: str) -> None:
    stack = rig.stack
    online = rig.staff("GET", "/figures").json()
    first = stack.chat(ask, lang=lang)
    session = first["session"]
    [queued] = first["messages"]
    assert_queue_message(queued["text"], lang, online)
    assert queued["buttons"][0]["payload"] == "/cancel_handoff"
    sid = session.partition(".")[0]

    def history() -> list[dict[str, Any]]:
        url = stack.app_url + "/api/history"
        return list(stack.client.get(url, params={"session": session}).json()["messages"])

    def seen() -> list[str]:
        return [m["text"] for m in history() if m["role"] != "user"]

    def say(text: str) -> None:
        reply = stack.chat(text, session=session, lang=lang)
        held.append(reply["messages"])

    assert rasa_tracker(stack, f"web:{sid}")["paused"] is True  # Rasa's own pause
    held: list[list[dict[str, Any]]] = []
    agent_round(rig, f"web:{sid}", lang, say=say, seen=seen, said_to_person="¿sigues ahí?")
    assert held[0] == []  # no bot reply while with the person
    tracker = rasa_tracker(stack, f"web:{sid}")
    assert tracker["paused"] is False
    # the tracker kept the turn the person got
    said = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
    assert "¿sigues ahí?" in said
    roles = {m["text"]: m["role"] for m in history()}
    assert roles["Hi <b>there</b> & hello"] == "agent"


def test_web_never_mind_leaves_the_queue(rig: Rig) -> None:
    first = rig.stack.chat("I want to talk to a person", lang="en")
    session = first["session"]
    cancel = rig.stack.chat("never mind", session=session, lang="en")
    assert [m["text"] for m in cancel["messages"]] == [TEMPLATES.render("handoff_cancelled", "en")]
    sid = session.partition(".")[0]
    listed = rig.staff("GET", "/handoffs?state=closed").json()["handoffs"]
    [mine] = [h for h in listed if h["conversation_id"] == f"web:{sid}"]
    assert mine["outcome"] == "cancelled"
    again = rig.stack.chat("hello", session=session, lang="en")
    assert [m["text"] for m in again["messages"]] == [TEMPLATES.render("greet", "en")]


def test_telegram_handoff_in_spanish(rig: Rig) -> None:
    chat, update = 8101, iter(range(81000, 82000))
    api = rig.telegram

    def say(text: str) -> None:
        response = rig.stack.client.post(
            rig.stack.app_url + WEBHOOK_PATH,
            json=message_update(next(update), chat, text, lang="es"),
            headers={SECRET_HEADER: TG_SECRET},
        )
        assert response.status_code == 200

    online = rig.staff("GET", "/figures").json()
    say("quiero hablar con una persona")
    queued = until(lambda: api.shown(chat), "the queue message")
    assert_queue_message(queued[0], "es", online)
    agent_round(
        rig, f"telegram:{chat}", "es", say=say, seen=lambda: api.shown(chat),
        said_to_person="tengo un cargo duplicado",
    )  # fmt: skip
    assert any(m["text"] == "Hi &lt;b&gt;there&lt;/b&gt; &amp; hello" for m in api.sent(chat))


def test_slack_handoff_in_english(rig: Rig) -> None:
    user, channel = "U0HANDOFF", "D0HANDOFF"

    def say(text: str) -> None:
        body = dm(text, user=user, channel=channel)
        response = rig.stack.client.post(
            rig.stack.app_url + "/slack/events", content=body, headers=signed_headers(body)
        )
        assert response.status_code == 200

    def seen() -> list[str]:
        calls = rig.slack.of("chat.postMessage")
        return [
            " ".join(b["text"]["text"] for b in c.body.get("blocks", []) if b["type"] == "section")
            for c in calls
            if c.body.get("channel") in (user, channel)
        ]

    def unescaped() -> list[str]:
        return [s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") for s in seen()]

    online = rig.staff("GET", "/figures").json()
    say("I want to talk to a person")
    assert_queue_message(until(unescaped, "the queue message")[0], "en", online)
    agent_round(
        rig, f"slack:{TEAM_ID}:{user}", "en", say=say, seen=unescaped,
        said_to_person="my card was charged twice",
    )  # fmt: skip
    assert escape("Hi <b>there</b> & hello") in seen()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def sign_in(browser: Browser, rig: Rig, name: str, **context: Any) -> Page:
    page = browser.new_context(**context).new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(rig.stack.app_url + "/admin/login")
    page.locator("input[name=name]").fill(name)
    page.locator("input[name=password]").fill(STAFF_TOKEN)
    page.locator("form[action='/admin/login'] button").click()
    page.wait_for_url("**/admin")
    page.goto(rig.stack.app_url + "/admin/inbox")
    page.errors = errors  # type: ignore[attr-defined]
    return page


def test_inbox_page_claims_replies_and_hands_back_live(rig: Rig, browser: Browser) -> None:
    stack = rig.stack
    page = sign_in(browser, rig, "Marta")
    expect(page.locator("#fig-online")).not_to_have_text("–")
    # a customer asks while the inbox is open: it appears without a reload
    subscribed = stack.chat("avísame de las novedades", lang="es")
    session = subscribed["session"]
    first = stack.chat("quiero hablar con una persona", session=session, lang="es")
    assert first["messages"][0]["buttons"][0]["payload"] == "/cancel_handoff"
    sid = session.partition(".")[0]
    conversation = f"web:{sid}"
    stack.chat("me han cobrado dos veces <b>ayuda</b>", session=session, lang="es")
    waiting = page.locator("#list-waiting .pick", has_text="me han cobrado dos veces")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("web")
    waiting.click()
    expect(page.locator(".transcript")).to_contain_text("quiero hablar con una persona")
    expect(page.locator(".conversation .sub")).to_contain_text("incident update")
    # the customer's HTML is shown as text
    expect(page.locator(".transcript .m.user").last).to_have_text(
        re.compile(r"me han cobrado dos veces <b>ayuda</b>")
    )
    page.locator("#do-claim").click()
    expect(page.locator("#list-mine .pick")).to_have_count(1)
    # search what we say, insert it, and send
    page.locator("details.answers summary").click()
    page.locator("#answer-q").fill("tarjeta rechazada")
    page.locator("#answer-q").press("Enter")
    expect(page.locator(".answers .card").first).to_contain_text(re.compile("version", re.I))
    page.locator("#reply-text").fill("Hola, soy Marta. Lo reviso ahora mismo.")
    page.locator("#do-send").click()

    def history() -> list[tuple[str, str]]:
        url = stack.app_url + "/api/history"
        rows = stack.client.get(url, params={"session": session}).json()["messages"]
        return [(m["role"], m["text"]) for m in rows]

    until(lambda: ("agent", "Hola, soy Marta. Lo reviso ahora mismo.") in history(), "reply")
    expect(page.locator(".transcript .m.agent")).to_contain_text("Lo reviso ahora mismo")
    expect(page.locator("#reply-text")).to_have_value("")
    # the customer writes: the agent sees it live, the bot says nothing
    held = stack.chat("gracias, espero", session=session, lang="es")
    assert held["messages"] == []
    expect(page.locator(".transcript .m.user").last).to_have_text(re.compile("gracias, espero"))
    page.set_viewport_size({"width": 1200, "height": 900})
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "inbox-with-agent")
    page.locator("#do-release").click()
    expect(page.locator("#list-mine .pick")).to_have_count(0)
    again = stack.chat("hola", session=session, lang="es")
    assert [m["text"] for m in again["messages"]] == [TEMPLATES.render("greet", "es")]
    handled = rig.staff("GET", "/handoffs?state=closed").json()["handoffs"]
    mine = [h for h in handled if h["conversation_id"] == conversation]
    assert mine[0]["claimed_by"] == "Marta" and mine[0]["outcome"] == "released"
    assert page.errors == []  # type: ignore[attr-defined]


def test_inbox_page_on_a_phone(rig: Rig, browser: Browser) -> None:
    rig.stack.chat("I want to talk to a person", lang="en")
    page = sign_in(browser, rig, "Luis", viewport={"width": 390, "height": 844})
    expect(page.locator("#list-waiting .pick").first).to_be_visible()
    page.locator("#list-waiting .pick").first.click()
    expect(page.locator("#do-claim")).to_be_visible()
    screenshot(page, "inbox-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400  # nothing wider than the phone
