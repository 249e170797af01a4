"""Email and SMS updates asked for in words in the chat widget ("email me updates",
"mándame un SMS", "notify me at ana@example.com"), in headless Chromium against a real
stack: the Rasa server classifies the message, the app's action answers with the widget's
email/SMS form (prefilled with a typed address), and the form goes through the real
/api/subscribe with its double opt-in (a real SMTP server on loopback, the Twilio fake).
After a chat subscription the widget offers email or SMS too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from bot.broadcast.subscriptions import SubscriptionStore
from bot.channels.contact.store import ContactStore
from bot.db import Database
from bot.stack import Stack, running_stack
from bot.templates import TemplateStore
from tests.helpers.smtp_server import SmtpServer, text_of
from tests.helpers.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio
from tests.widget.conftest import Watch, new_page, screenshot

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])
HOST_PAGE = (
    '<html lang="{lang}"><head>'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
    '<body><script src="/static/widget.js" defer></script></body></html>'
)


@dataclass
class World:
    stack: Stack
    smtp: SmtpServer
    twilio: FakeTwilio
    db: Database

    @property
    def subs(self) -> SubscriptionStore:
        return SubscriptionStore(self.db.engine)

    @property
    def contacts(self) -> ContactStore:
        return ContactStore(self.db.engine)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir: Path = tmp_path_factory.mktemp("faro-chat-contact")
    with SmtpServer().running() as smtp, FakeTwilio(max_per_s=20).running() as twilio:
        env = {
            "FARO_SMTP_URL": smtp.url,
            "FARO_EMAIL_FROM": "updates@northwind.example",
            "FARO_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "FARO_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "FARO_TWILIO_FROM": FROM,
            "FARO_TWILIO_API_URL": twilio.url,
            "FARO_SUBSCRIBE_RATE_PER_IP": "200",
        }
        with running_stack(data_dir, extra_env=env) as stack:
            db = Database.open(f"sqlite:///{data_dir / 'faro.db'}")
            try:
                yield World(stack, smtp, twilio, db)
            finally:
                db.dispose()


def open_chat(world: World, browser: Browser, watch: Watch, lang: str) -> Page:
    page = new_page(
        browser,
        watch,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        locale="es-ES" if lang == "es" else "en-US",
    )
    page.set_default_timeout(30_000)  # a real Rasa on a loaded machine
    url = world.stack.app_url
    page.route(
        url + "/host",
        lambda route: route.fulfill(content_type="text/html", body=HOST_PAGE.format(lang=lang)),
    )
    page.goto(url + "/host")
    page.get_by_role("button", name=re.compile("chat", re.I)).click()
    return page


def say(page: Page, text: str, replies_before: int) -> Locator:
    """Type ``text`` in the chat; the bot's reply to it."""
    box = page.locator("#faro-input")
    box.fill(text)
    box.press("Enter")
    bots = page.locator(".msg.bot:not(.sub)")
    expect(bots).to_have_count(replies_before + 1)
    return bots.last


def session_of(page: Page, world: World) -> str:
    token = page.evaluate("s => localStorage.getItem('faro.session:' + s)", world.stack.app_url)
    return "web:" + str(token).split(".")[0]


def test_email_asked_for_in_words_and_typed_in_the_chat(
    world: World, browser: Browser, watch: Watch
) -> None:
    page = open_chat(world, browser, watch, "en")
    welcome = 1
    # in words: the form opens by itself, email chosen, nothing subscribed
    reply = say(page, "email me updates", welcome)
    expect(reply.locator(".bubble")).to_have_text(TEMPLATES.render("contact.chat.offer", "en"))
    forms = page.locator(".msg.sub")
    expect(forms).to_have_count(1)
    expect(forms.last.get_by_label("Your email address")).to_be_focused()
    conversation = session_of(page, world)
    assert world.subs.get(conversation) is None

    # an address typed in the request: the form is prefilled, nothing sent yet
    reply = say(page, "notify me at Ana.Chat@Example.com", welcome + 1)
    expect(reply.locator(".bubble")).to_have_text(TEMPLATES.render("contact.chat.prefilled", "en"))
    expect(forms).to_have_count(2)
    form = forms.last
    expect(form.get_by_label("Your email address")).to_have_value("ana.chat@example.com")
    screenshot(page, "widget-chat-contact-en-prefilled")
    assert world.contacts.events("email", "ana.chat@example.com") == []
    assert world.smtp.to("ana.chat@example.com") == []
    # the customer presses Subscribe: the double opt-in starts, still nothing subscribed
    form.get_by_role("button", name="Subscribe").click()
    expect(form.get_by_role("status")).to_contain_text("Almost done")
    world.smtp.wait_for(lambda: bool(world.smtp.to("ana.chat@example.com")), timeout_s=30)
    mail = text_of(world.smtp.to("ana.chat@example.com")[0])
    assert re.search(r"/subscribe/confirm\?t=\S+", mail)
    assert world.subs.get("email:ana.chat@example.com") is None
    assert world.subs.get(conversation) is None

    # a bad address typed: the form's own message, the form opens empty
    api = httpx.post(world.stack.app_url + "/api/subscribe", json={"email": "ana@@example"})
    assert api.status_code == 400
    message = str(api.json()["error"])
    reply = say(page, "notify me at ana@@example", welcome + 2)
    expect(reply.locator(".bubble")).to_contain_text(message[:1].upper() + message[1:])
    expect(forms).to_have_count(3)
    expect(forms.last.get_by_label("Your email address")).to_have_value("")
    assert world.contacts.events("email", "ana@@example") == []

    # a chat subscription: done here, and the email/SMS button is offered (not opened)
    reply = say(page, "notify me", welcome + 3)
    expect(reply.locator(".bubble")).to_have_text(TEMPLATES.render("subscribe.confirmed", "en"))
    more = reply.get_by_role("button", name=TEMPLATES.render("contact.chat.button", "en"))
    expect(more).to_be_visible()
    expect(forms).to_have_count(3)
    sub = world.subs.get(conversation)
    assert sub is not None and sub.active
    screenshot(page, "widget-chat-contact-en-after-subscribe")
    more.focus()
    page.keyboard.press("Enter")  # keyboard only
    expect(forms).to_have_count(4)
    expect(forms.last.get_by_label("Your email address")).to_be_focused()
    assert watch.errors == [] and watch.dialogs == []
    page.context.close()


def test_sms_asked_for_in_spanish_typed_number_confirmed_by_code(
    world: World, browser: Browser, watch: Watch
) -> None:
    page = open_chat(world, browser, watch, "es")
    welcome = 1
    reply = say(page, "mándame un SMS", welcome)
    expect(reply.locator(".bubble")).to_have_text(TEMPLATES.render("contact.chat.offer", "es"))
    forms = page.locator(".msg.sub")
    expect(forms).to_have_count(1)
    expect(forms.last.get_by_label("SMS")).to_be_checked()
    expect(forms.last.get_by_label("Tu número de móvil, con el prefijo del país")).to_be_focused()
    conversation = session_of(page, world)

    reply = say(page, "avísame por SMS al +34 611 222 333", welcome + 1)
    expect(reply.locator(".bubble")).to_have_text(TEMPLATES.render("contact.chat.prefilled", "es"))
    form = forms.last
    phone = form.get_by_label("Tu número de móvil, con el prefijo del país")
    expect(phone).to_have_value("+34611222333")
    screenshot(page, "widget-chat-contact-es-prefilled")
    assert world.twilio.accepted("+34611222333") == []  # nothing sent before they press it
    form.get_by_role("button", name="Suscribirme").click()
    expect(form.get_by_role("status")).to_contain_text("Te hemos enviado un código")
    world.twilio.wait_for(lambda: bool(world.twilio.accepted("+34611222333")))
    assert world.subs.get("sms:+34611222333") is None  # not before the code
    code = re.search(r"\b(\d{6})\b", world.twilio.accepted("+34611222333")[-1].body)
    assert code
    form.get_by_label("El código de 6 cifras que te hemos enviado").fill(code.group(1))
    page.keyboard.press("Enter")
    expect(form.get_by_role("status")).to_contain_text("Responde BAJA")
    sub = world.subs.get("sms:+34611222333")
    assert sub is not None and sub.active and sub.lang == "es"
    assert world.subs.get(conversation) is None

    # a bad address, in Spanish: the form's Spanish message
    api = httpx.post(
        world.stack.app_url + "/api/subscribe", json={"email": "maria@@ejemplo", "lang": "es"}
    )
    reply = say(page, "avísame en maria@@ejemplo", welcome + 2)
    expect(reply.locator(".bubble")).to_contain_text(str(api.json()["error"]))

    reply = say(page, "avísame", welcome + 3)
    expect(reply.locator(".bubble")).to_have_text(TEMPLATES.render("subscribe.confirmed", "es"))
    more = reply.get_by_role("button", name=TEMPLATES.render("contact.chat.button", "es"))
    expect(more).to_be_visible()
    screenshot(page, "widget-chat-contact-es-after-subscribe")
    more.click()
    expect(forms).to_have_count(4)
    assert watch.errors == [] and watch.dialogs == []
    page.context.close()


def test_a_header_injection_typed_in_the_chat_is_refused(world: World) -> None:
    url = world.stack.app_url
    text = "notify me at inject@example.com\r\nBcc: evil@example.com"
    answer = httpx.post(url + "/api/chat", json={"text": text}, timeout=60)
    assert answer.status_code == 200
    [reply] = answer.json()["messages"]
    # what the form says for the same text, as the chat receives it (line breaks folded)
    api = httpx.post(
        url + "/api/subscribe", json={"email": "inject@example.com Bcc: evil@example.com"}
    )
    message = str(api.json()["error"])
    assert reply["text"].startswith(message[:1].upper() + message[1:])
    assert "evil" not in str(reply["buttons"]) and "inject" not in str(reply["buttons"])
    assert world.contacts.events("email", "inject@example.com") == []
    assert world.smtp.to("evil@example.com") == [] and world.smtp.to("inject@example.com") == []
