"""The hosted /subscribe page in a real headless Chromium, on a phone-sized screen, in en and
es: subscribe by email with the keyboard, confirm from the emailed link, subscribe by SMS with
the texted code. Screenshots go to .faro/screenshots/subscribe-*.png."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from bot.app import create_app
from bot.channels.email.render import render_email
from bot.services import AppServices
from bot.templates import TemplateStore
from bot.wiring import build_services
from faq_index import Encoder
from tests.channels.contact.conftest import settings_for
from tests.helpers.smtp_server import SmtpServer, text_of
from tests.helpers.twilio_fake import FakeTwilio
from tests.widget.conftest import CHROMIUM_ARGS, ROOT, chromium_path, screenshot

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


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


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("subscribe-page")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with SmtpServer().running() as smtp, FakeTwilio().running() as twilio:
        settings = settings_for(tmp, smtp, twilio, FARO_PUBLIC_URL=url)
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
        deadline = time.monotonic() + 10
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
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        yield _launch(p)


def _launch(p: Playwright) -> Browser:
    return p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []


def test_subscribe_by_email_with_the_keyboard_and_confirm_in_spanish(
    served: Served, page: Page
) -> None:
    page.goto(served.url + "/subscribe?lang=es")
    expect(page.get_by_role("heading", name="Recibe avisos del servicio")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "es"
    # nothing wider than the phone's screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "subscribe-es-phone")
    page.get_by_label("Tu correo electrónico").focus()
    page.keyboard.type("lucia@example.com")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Casi listo")
    screenshot(page, "subscribe-es-sent")
    served.smtp.wait_for(lambda: bool(served.smtp.to("lucia@example.com")))
    match = re.search(
        r"http://\S+/subscribe/confirm\?t=\S+", text_of(served.smtp.to("lucia@example.com")[0])
    )
    assert match
    page.goto(match.group(0) + "&lang=es")
    expect(page.get_by_role("heading", name="Confirma tu suscripción")).to_be_visible()
    page.get_by_role("button", name="Sí, enviadme avisos").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Ya estás suscrito")).to_be_visible()
    screenshot(page, "subscribe-es-confirmed")
    sub = served.services.broadcaster.subscriptions.get("email:lucia@example.com")
    assert sub is not None and sub.active and sub.lang == "es"


def test_subscribe_by_sms_with_the_texted_code_in_english(served: Served, page: Page) -> None:
    page.goto(served.url + "/subscribe?lang=en")
    expect(page.get_by_role("heading", name="Get service updates")).to_be_visible()
    page.get_by_label("Text message (SMS)").check()
    expect(page.get_by_label("Your mobile number, with country code")).to_be_focused()
    page.keyboard.type("+44 7400 123456")
    screenshot(page, "subscribe-en-sms")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_contain_text("We have texted you a code")
    served.twilio.wait_for(lambda: bool(served.twilio.accepted("+447400123456")))
    code = re.search(r"\b(\d{6})\b", served.twilio.accepted("+447400123456")[0].body)
    assert code
    code_box = page.get_by_label("The 6-digit code we texted you")
    expect(code_box).to_be_focused()
    page.keyboard.type("000000" if code.group(1) != "000000" else "111111")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("that code is not right")
    code_box.fill(code.group(1))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Reply STOP")
    screenshot(page, "subscribe-en-sms-confirmed")
    sub = served.services.broadcaster.subscriptions.get("sms:+447400123456")
    assert sub is not None and sub.active and sub.lang == "en"


def test_a_bad_address_is_explained_on_the_page(served: Served, page: Page) -> None:
    page.goto(served.url + "/subscribe")
    page.get_by_label("Your email address").fill("not an address")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_contain_text("not a valid email address")
    screenshot(page, "subscribe-en-error")
    page.goto(served.url + "/subscribe?lang=es")  # the refusal in the page's language
    page.get_by_label("Tu correo electrónico").fill("no es un correo")
    page.get_by_role("button", name="Suscribirme").click()
    expect(page.get_by_role("status")).to_contain_text("Ese correo electrónico no es válido")
    page.goto(served.url + "/subscribe/confirm?t=forged&lang=es")
    expect(page.get_by_role("heading", name="Este enlace no funciona")).to_be_visible()


def test_an_update_email_reads_well_on_a_phone(page: Page) -> None:
    templates = TemplateStore.from_paths([ROOT / "data/templates"])
    text = (
        "🔔 Actualización: Fallan los pagos con tarjeta\n"
        "Hemos encontrado la causa y estamos trabajando en la solución.\n"
        'Última actualización de nuestra página de estado (14:05): "Estamos desplegando un '
        'arreglo." https://status.northwind.example/incidents/abc\n'
        "Recibes este correo porque te suscribiste a los avisos del servicio."
    )
    message = render_email(
        text=text,
        lang="es",
        to="ana@example.com",
        sender="updates@northwind.example",
        templates=templates,
        unsubscribe_url="https://updates.northwind.example/subscribe/unsubscribe?t=x",
        ref="outbox-1",
    )
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    page.set_content(str(html.get_content()))
    expect(page.get_by_text("Actualización: Fallan los pagos con tarjeta")).to_be_visible()
    expect(page.get_by_role("link", name="Darte de baja de estos avisos")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "email-update-es-phone")


def test_components_chosen_with_the_keyboard_on_a_phone(served: Served, page: Page) -> None:
    page.goto(served.url + "/subscribe?lang=es")
    parts = page.get_by_role("group", name="¿De qué servicios? (opcional)")
    expect(parts).to_be_visible()
    live = served.services.broadcaster.live.snapshot
    assert live is not None
    names = [c.name for c in live.leaf_components()]
    expect(parts.get_by_role("checkbox")).to_have_count(len(names))
    for name in names:  # the live status page's components, in its order
        expect(parts.get_by_label(name)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("Tu correo electrónico").focus()
    page.keyboard.type("marta@example.com")
    page.keyboard.press("Tab")  # to the first service
    expect(parts.get_by_label(names[0])).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the second one, ticked from the keyboard
    expect(parts.get_by_label(names[1])).to_be_checked()
    expect(parts.get_by_label(names[0])).not_to_be_checked()
    screenshot(page, "subscribe-es-components-phone")
    page.get_by_role("button", name="Suscribirme").click()
    expect(page.get_by_role("status")).to_contain_text("Casi listo")
    served.smtp.wait_for(lambda: bool(served.smtp.to("marta@example.com")))
    match = re.search(
        r"http://\S+/subscribe/confirm\?t=\S+", text_of(served.smtp.to("marta@example.com")[0])
    )
    assert match
    page.goto(match.group(0) + "&lang=es")
    page.get_by_role("button", name="Sí, enviadme avisos").click()
    expect(page.get_by_role("heading", name="Ya estás suscrito")).to_be_visible()
    sub = served.services.broadcaster.subscriptions.get("email:marta@example.com")
    assert sub is not None and sub.active and sub.components == (names[1].lower(),)


def test_the_english_page_offers_components_too(served: Served, page: Page) -> None:
    page.goto(served.url + "/subscribe?lang=en")
    parts = page.get_by_role("group", name="Which services? (optional)")
    expect(parts).to_be_visible()
    expect(parts.get_by_text("Tick none to hear about every service.")).to_be_visible()
    screenshot(page, "subscribe-en-components-phone")
