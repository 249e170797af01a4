"""Updates by email or SMS asked for inside the chat widget, in headless Chromium, against the
real app (build_services, create_app, served by uvicorn with its delivery worker), a real
SMTP server on loopback (aiosmtpd) and the Twilio fake; Rasa is a loopback fake that makes
the subscribe offer. The widget uses the same ``/api/subscribe`` service as the hosted page:
same validation, same limits, same double opt-in."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Locator, Page, expect

from bot.app import create_app
from bot.channels.contact.store import ContactStore
from bot.services import AppServices
from bot.wiring import build_services
from faq_index import Encoder, load_encoder
from tests.channels.contact.conftest import settings_for
from tests.helpers.rasa_fake import FakeRasa
from tests.helpers.smtp_server import SmtpServer, text_of
from tests.helpers.twilio_fake import FakeTwilio
from tests.widget.conftest import Watch, new_page, screenshot

OFFER = {
    "text": "Would you like a message here when this changes?",
    "buttons": [{"title": "Yes, notify me", "payload": "/subscribe"}],
}
OFFER_LABEL = {"en": "Or get updates by email or SMS", "es": "O recibe los avisos por correo o SMS"}
HOST_PAGE = (
    '<html lang="{lang}"><head>'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
    '<body><script src="/static/widget.js" defer></script></body></html>'
)


@dataclass
class Served:
    url: str
    services: AppServices
    smtp: SmtpServer
    twilio: FakeTwilio


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp: Path, encoder: Encoder, **extra: str) -> Iterator[Served]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with (
        SmtpServer().running() as smtp,
        FakeTwilio().running() as twilio,
        FakeRasa(replies=[OFFER]).running() as rasa,
    ):
        settings = settings_for(
            tmp, smtp, twilio, FARO_PUBLIC_URL=url, FARO_RASA_URL=rasa.url, **extra
        )
        services = build_services(settings, encoder=encoder)
        config = uvicorn.Config(
            create_app(services), host="127.0.0.1", port=port, log_level="warning"
        )
        server = uvicorn.Server(config)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=lambda: loop.run_until_complete(server.serve()), daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.05)
        try:
            yield Served(url, services, smtp, twilio)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            services.store.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(
        tmp_path_factory.mktemp("widget-subscribe"),
        load_encoder("hashing"),
        FARO_SUBSCRIBE_RATE_PER_IP="200",
    )


def open_offer(served: Served, page: Page, lang: str) -> Locator:
    """The widget on a host page, the subscribe offer asked for, the inline form opened."""
    page.route(
        served.url + "/",
        lambda route: route.fulfill(content_type="text/html", body=HOST_PAGE.format(lang=lang)),
    )
    page.goto(served.url + "/")
    page.get_by_role("button", name=re.compile("chat")).click()
    box = page.get_by_role("textbox")
    box.fill("notify me" if lang == "en" else "avísame")
    box.press("Enter")
    offer = page.get_by_role("button", name=OFFER_LABEL[lang])
    expect(offer).to_be_visible()
    offer.focus()
    page.keyboard.press("Enter")  # keyboard only
    form = page.locator(".msg.sub")
    expect(form).to_have_count(1)
    return form


def test_email_in_the_widget_confirmed_from_the_real_mail(
    served: Served, browser: Browser, watch: Watch
) -> None:
    page = new_page(browser, watch, viewport={"width": 390, "height": 844}, is_mobile=True)
    form = open_offer(served, page, "en")
    email = form.get_by_label("Your email address")
    expect(email).to_be_focused()
    # a bad address: the service's own message, nothing stored
    page.keyboard.type("ana@@example")
    page.keyboard.press("Enter")
    expect(form.get_by_role("status")).to_contain_text("not a valid email address")
    screenshot(page, "widget-subscribe-en-error")
    store = ContactStore(served.services.store.engine)
    assert store.events("email", "ana@@example") == []
    # a real one, limited to one service
    email.fill("Ana@Example.com")
    form.get_by_text("Only for some services (optional)").click()
    form.get_by_label("Card payments").check()
    screenshot(page, "widget-subscribe-en-form")
    form.get_by_role("button", name="Subscribe").click()
    expect(form.get_by_role("status")).to_contain_text("Almost done")
    screenshot(page, "widget-subscribe-en-sent")
    subs = served.services.broadcaster.subscriptions
    assert subs.get("email:ana@example.com") is None  # nothing before confirmation

    served.smtp.wait_for(lambda: bool(served.smtp.to("ana@example.com")), timeout_s=20)
    match = re.search(
        r"http://\S+/subscribe/confirm\?t=\S+", text_of(served.smtp.to("ana@example.com")[0])
    )
    assert match and match.group(0).startswith(served.url)
    page.goto(match.group(0))
    page.get_by_role("button", name="Yes, send me updates").click()
    expect(page.get_by_role("heading", name="You are subscribed")).to_be_visible()
    sub = subs.get("email:ana@example.com")
    assert sub is not None and sub.active and sub.lang == "en"
    assert [c.lower() for c in sub.components] == ["card payments"]
    assert watch.errors == [] and watch.dialogs == []
    page.context.close()


def test_sms_code_entered_in_the_widget_in_spanish(
    served: Served, browser: Browser, watch: Watch
) -> None:
    page = new_page(browser, watch, locale="es-ES")
    form = open_offer(served, page, "es")
    form.get_by_label("SMS").check()
    phone = form.get_by_label("Tu número de móvil, con el prefijo del país")
    expect(phone).to_be_focused()
    page.keyboard.type("612 345 678")  # no country code: refused, in Spanish
    page.keyboard.press("Enter")
    expect(form.get_by_role("status")).to_contain_text("prefijo del país")
    phone.fill("+34 612 345 678")
    form.get_by_role("button", name="Suscribirme").click()
    expect(form.get_by_role("status")).to_contain_text("Te hemos enviado un código")
    served.twilio.wait_for(lambda: bool(served.twilio.accepted("+34612345678")))
    # the code did not come (say): back to the number, kept, and a new code
    form.get_by_role("button", name="Cambiar el número o pedir otro código").click()
    expect(phone).to_be_focused()
    expect(phone).to_have_value("+34 612 345 678")
    page.keyboard.press("Enter")
    expect(form.get_by_role("status")).to_contain_text("Te hemos enviado un código")
    served.twilio.wait_for(lambda: len(served.twilio.accepted("+34612345678")) == 2)
    code = re.search(r"\b(\d{6})\b", served.twilio.accepted("+34612345678")[-1].body)
    assert code
    code_box = form.get_by_label("El código de 6 cifras que te hemos enviado")
    expect(code_box).to_be_focused()
    page.keyboard.type("000000" if code.group(1) != "000000" else "111111")
    page.keyboard.press("Enter")
    expect(form.get_by_role("status")).to_contain_text("Ese código no es correcto")
    assert served.services.broadcaster.subscriptions.get("sms:+34612345678") is None
    code_box.fill(code.group(1))
    page.keyboard.press("Enter")
    expect(form.get_by_role("status")).to_contain_text("Responde BAJA")
    screenshot(page, "widget-subscribe-es-sms-confirmed")
    sub = served.services.broadcaster.subscriptions.get("sms:+34612345678")
    assert sub is not None and sub.active and sub.lang == "es"
    assert watch.errors == [] and watch.dialogs == []
    page.context.close()


def test_the_per_address_limit_shows_in_the_widget(
    served: Served, browser: Browser, watch: Watch
) -> None:
    per_hour = served.services.settings.contact.rate_per_address
    for _ in range(per_hour):  # the same service, asked directly: the address's hour is used up
        answer = httpx.post(
            served.url + "/api/subscribe", json={"email": "limit@example.com", "lang": "en"}
        )
        assert answer.status_code == 202
    page = new_page(browser, watch)
    form = open_offer(served, page, "en")
    form.get_by_label("Your email address").fill("limit@example.com")
    form.get_by_role("button", name="Subscribe").click()
    expect(form.get_by_role("status")).to_contain_text("too many confirmations")
    screenshot(page, "widget-subscribe-en-limit")
    requested = [
        e
        for e in ContactStore(served.services.store.engine).events("email", "limit@example.com")
        if e.event == "requested"
    ]
    assert len(requested) == per_hour
    assert watch.errors == []
    page.context.close()


def test_the_per_ip_limit_shows_in_the_widget_in_spanish(
    tmp_path: Path, browser: Browser, watch: Watch
) -> None:
    for running in _serve(tmp_path, load_encoder("hashing"), FARO_SUBSCRIBE_RATE_PER_IP="2"):
        page = new_page(browser, watch, locale="es-ES")
        form = open_offer(running, page, "es")
        for address in ("uno@example.com", "dos@example.com"):  # this IP's minute, used up
            answer = httpx.post(running.url + "/api/subscribe", json={"email": address})
            assert answer.status_code == 202
        form.get_by_label("Tu correo electrónico").fill("tres@example.com")
        form.get_by_role("button", name="Suscribirme").click()
        expect(form.get_by_role("status")).to_contain_text("Demasiadas solicitudes")
        store = ContactStore(running.services.store.engine)
        assert store.events("email", "tres@example.com") == []
        assert watch.errors == []
        page.context.close()


def test_no_email_or_sms_offer_when_both_are_off(
    tmp_path: Path, browser: Browser, watch: Watch
) -> None:
    off = {"FARO_SMTP_URL": "", "FARO_TWILIO_ACCOUNT_SID": ""}
    for running in _serve(tmp_path, load_encoder("hashing"), **off):
        assert httpx.get(running.url + "/api/subscribe/options").json()["channels"] == []
        page = new_page(browser, watch)
        page.route(
            running.url + "/",
            lambda route: route.fulfill(content_type="text/html", body=HOST_PAGE.format(lang="en")),
        )
        page.goto(running.url + "/")
        page.get_by_role("button", name=re.compile("chat")).click()
        box = page.get_by_role("textbox")
        with page.expect_response(re.compile(r"/api/subscribe/options")):
            box.fill("notify me")
            box.press("Enter")
        expect(page.get_by_role("button", name="Yes, notify me")).to_be_visible()
        page.wait_for_timeout(200)
        expect(page.get_by_role("button", name=OFFER_LABEL["en"])).to_have_count(0)
        assert watch.errors == []
        page.context.close()
