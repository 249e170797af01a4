"""action_subscribe when a chat asks for email or SMS updates ("email me updates",
"mándame un SMS", an address typed in the request): the widget gets its email/SMS form
(prefilled with a valid typed address, never a subscription without the double opt-in);
Telegram and Slack keep their chat subscription and get the /subscribe page link."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.broadcast.service import Subscriptions
from bot.broadcast.subscriptions import SubscriptionStore
from bot.channels.contact.addresses import AddressError, normalize_email, normalize_phone
from bot.channels.contact.chat import ChatContactOffer, read_request
from bot.channels.contact.store import ContactStore
from bot.core.ports import ActionServices
from bot.db import Database
from bot.rasa import payloads
from bot.templates import TemplateStore
from tests.bot.helpers import FakeFaq, FakeStatus, action_call, run_action

WEB = "web:Qx1bS0m3S3ss10n"
PUBLIC = "https://status.northwind.example"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database.open(f"sqlite:///{tmp_path / 'faro.db'}")


@pytest.fixture
def store(db: Database) -> SubscriptionStore:
    return SubscriptionStore(db.engine)


def services_with(
    channels: list[str],
    store: SubscriptionStore,
    templates: TemplateStore,
    fake_faq: FakeFaq,
    fake_status: FakeStatus,
) -> ActionServices:
    offer = ChatContactOffer(channels=channels, templates=templates, public_url=PUBLIC)
    return ActionServices(
        faq=fake_faq,
        status=fake_status,
        templates=templates,
        subscriptions=Subscriptions(store, templates=templates, contact=offer),
    )


@pytest.fixture
def both_on(
    store: SubscriptionStore, templates: TemplateStore, fake_faq: FakeFaq, fake_status: FakeStatus
) -> ActionServices:
    return services_with(["email", "sms"], store, templates, fake_faq, fake_status)


async def subscribe(
    services: ActionServices, text: str, lang: str = "en", sender_id: str = WEB
) -> dict[str, Any]:
    channel = sender_id.split(":")[0]
    call = action_call(
        "action_subscribe",
        text=text,
        intent="subscribe",
        lang=lang,
        channel=channel,
        sender_id=sender_id,
    )
    response: dict[str, Any] = (await run_action(services, call))["responses"][0]
    return response


def form_of(response: dict[str, Any]) -> dict[str, Any]:
    """The form the widget opens for the reply's one button (its payload, parsed)."""
    [button] = response["buttons"]
    payload = str(button["payload"])
    assert payload.startswith(payloads.CONTACT_FORM)
    assert not payloads.is_bot_payload(payload)  # never sent to Rasa as an intent
    rest = payload[len(payloads.CONTACT_FORM) :]
    form: dict[str, Any] = json.loads(rest) if rest else {}
    return form


@pytest.mark.parametrize(
    ("lang", "text", "kind"),
    [
        ("en", "email me updates", "email"),
        ("en", "send me an SMS when it's fixed", "sms"),
        ("en", "can I get updates by email or SMS?", None),
        ("es", "avísame por correo", "email"),
        ("es", "mándame un SMS", "sms"),
        ("es", "avísame por e-mail cuando se arregle", "email"),
    ],
)
async def test_asked_in_words_the_widget_gets_the_form_not_a_chat_subscription(
    both_on: ActionServices,
    store: SubscriptionStore,
    templates: TemplateStore,
    lang: str,
    text: str,
    kind: str | None,
) -> None:
    response = await subscribe(both_on, text, lang)
    assert response["text"] == templates.render("contact.chat.offer", lang)
    assert response["buttons"][0]["title"] == templates.render("contact.chat.button", lang)
    form = form_of(response)
    assert form.get("open") is True and form.get("kind") == kind
    assert "email" not in form and "phone" not in form
    assert store.get(WEB) is None  # they asked for email/SMS, not for chat messages


@pytest.mark.parametrize(
    ("lang", "text", "field", "address"),
    [
        ("en", "notify me at Ana@Example.com", "email", "ana@example.com"),
        ("en", "text me at +34 612 345 678 when it works", "phone", "+34612345678"),
        ("es", "avísame en maria@ejemplo.es.", "email", "maria@ejemplo.es"),
        ("es", "mándame un SMS al 0034 612 345 678", "phone", "+34612345678"),
    ],
)
async def test_a_typed_address_prefills_the_form_and_subscribes_nobody(
    both_on: ActionServices,
    store: SubscriptionStore,
    db: Database,
    templates: TemplateStore,
    lang: str,
    text: str,
    field: str,
    address: str,
) -> None:
    response = await subscribe(both_on, text, lang)
    assert response["text"] == templates.render("contact.chat.prefilled", lang)
    form = form_of(response)
    assert form[field] == address and form["open"] is True
    assert form["kind"] == ("email" if field == "email" else "sms")
    # nothing recorded, nothing queued: the form goes through /api/subscribe and its opt-in
    contacts = ContactStore(db.engine)
    assert contacts.events("email" if field == "email" else "sms", address) == []
    assert store.get(WEB) is None
    assert store.get(f"{'email' if field == 'email' else 'sms'}:{address}") is None


def _form_message(value: str) -> str:
    """What /api/subscribe (and so the widget's form) says in English for ``value``."""
    try:
        normalize_email(value)
    except AddressError as exc:
        return str(exc)
    raise AssertionError(f"{value!r} was accepted")


@pytest.mark.parametrize(
    ("lang", "text", "typed"),
    [
        ("en", "notify me at ana@@example", "ana@@example"),
        # a header injection as the chat receives it: line breaks folded into spaces
        (
            "en",
            "notify me at ana@example.com Bcc: evil@example.com",
            "ana@example.com Bcc: evil@example.com",
        ),
        ("es", "avísame en maria@ejemplo", "maria@ejemplo"),
        ("es", "avísame en ana@example.com Bcc: evil@example.com", ""),
    ],
)
async def test_a_bad_typed_address_is_refused_with_the_forms_message(
    both_on: ActionServices,
    store: SubscriptionStore,
    db: Database,
    templates: TemplateStore,
    lang: str,
    text: str,
    typed: str,
) -> None:
    response = await subscribe(both_on, text, lang)
    if lang == "en":
        message = _form_message(typed)
        expected = message[:1].upper() + message[1:]
    else:
        expected = templates.render("contact.error.address_email", lang)
    assert response["text"].startswith(expected)
    assert response["text"].endswith(templates.render("contact.chat.offer", lang))
    form = form_of(response)
    assert "email" not in form and "phone" not in form  # nothing of it prefilled
    assert "evil" not in json.dumps(response)
    assert store.get(WEB) is None
    with db.engine.connect() as conn:
        from sqlalchemy import text as sql

        assert conn.execute(sql("SELECT count(*) FROM outbox")).scalar_one() == 0


@pytest.mark.parametrize("number", ["+34 12", "612 345 678"])
async def test_a_bad_number_is_refused_with_the_forms_message_in_spanish(
    both_on: ActionServices, templates: TemplateStore, number: str
) -> None:
    response = await subscribe(both_on, f"mándame un SMS al {number}", "es")
    assert response["text"].startswith(templates.render("contact.error.address_phone", "es"))
    assert "phone" not in form_of(response)


async def test_a_number_without_country_code_gets_the_forms_english_message(
    both_on: ActionServices,
) -> None:
    response = await subscribe(both_on, "text me at 612 345 678")
    try:
        normalize_phone("612 345 678")
    except AddressError as exc:
        message = str(exc)
    assert response["text"].startswith(message[:1].upper() + message[1:])


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_a_chat_subscription_in_the_widget_also_offers_email_or_sms(
    both_on: ActionServices, store: SubscriptionStore, templates: TemplateStore, lang: str
) -> None:
    response = await subscribe(both_on, "notify me" if lang == "en" else "avísame", lang)
    assert response["text"] == templates.render("subscribe.confirmed", lang)
    assert form_of(response) == {}  # a button, not opened by itself
    assert response["buttons"][0]["title"] == templates.render("contact.chat.button", lang)
    sub = store.get(WEB)
    assert sub is not None and sub.active
    again = await subscribe(both_on, "notify me", lang)
    assert again["text"] == templates.render("subscribe.already", lang)
    assert form_of(again) == {}


@pytest.mark.parametrize("sender_id", ["telegram:4242", "slack:T1:U2"])
@pytest.mark.parametrize("lang", ["en", "es"])
async def test_telegram_and_slack_keep_their_subscription_and_get_the_page_link(
    both_on: ActionServices,
    store: SubscriptionStore,
    templates: TemplateStore,
    sender_id: str,
    lang: str,
) -> None:
    text = "email me updates at ana@example.com" if lang == "en" else "mándame un SMS"
    response = await subscribe(both_on, text, lang, sender_id)
    link = f"{PUBLIC}/subscribe?lang={lang}"
    assert response["text"] == (
        templates.render("subscribe.confirmed", lang)
        + "\n\n"
        + templates.render("contact.chat.page", lang, link=link)
    )
    assert response["buttons"] == []  # no form there
    assert "ana@example.com" not in response["text"]
    sub = store.get(sender_id)
    assert sub is not None and sub.active  # as before: the chat is subscribed
    plain = await subscribe(both_on, "keep me posted", lang, sender_id)  # no email/SMS words
    assert plain["text"] == templates.render("subscribe.already", lang)
    assert plain["buttons"] == []


async def test_with_email_and_sms_off_nothing_changes(
    store: SubscriptionStore, templates: TemplateStore, fake_faq: FakeFaq, fake_status: FakeStatus
) -> None:
    services = services_with([], store, templates, fake_faq, fake_status)
    response = await subscribe(services, "email me updates at ana@example.com")
    assert response["text"] == templates.render("subscribe.confirmed", "en")
    assert response["buttons"] == []
    assert store.get(WEB) is not None


async def test_only_email_on_an_sms_request_says_so_and_offers_email(
    store: SubscriptionStore, templates: TemplateStore, fake_faq: FakeFaq, fake_status: FakeStatus
) -> None:
    services = services_with(["email"], store, templates, fake_faq, fake_status)
    response = await subscribe(services, "send me an SMS when it's fixed")
    assert response["text"] == (
        templates.render("contact.error.off", "en")
        + " "
        + templates.render("contact.chat.offer", "en")
    )
    assert form_of(response) == {"open": True}
    assert store.get(WEB) is None


@pytest.mark.parametrize(
    "text",
    [
        "notify me",
        "avísame de los pagos con tarjeta",
        "keep me posted",
        "/subscribe",
        "notify me about transfer 1234567",
    ],
)
def test_plain_subscribe_requests_are_not_email_or_sms(text: str) -> None:
    assert read_request(text) is None
