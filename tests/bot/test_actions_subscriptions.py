"""action_subscribe / action_unsubscribe, and the one-time offer after a status answer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.broadcast.service import Subscriptions
from bot.broadcast.subscriptions import SubscriptionStore
from bot.core.messages import BotMessage, Phase, StatusCard
from bot.core.ports import ActionServices
from bot.db import Database
from bot.rasa import payloads
from bot.status.live import LiveStatus
from bot.status.model import (
    Component,
    ComponentStatus,
    Incident,
    IncidentStatus,
    StatusSnapshot,
)
from bot.templates import TemplateStore
from tests.bot.helpers import FakeFaq, FakeStatus, action_call, run_action, texts

NOW = datetime.now(UTC)
CARDS = Component(id="c1", name="Card payments", status=ComponentStatus.PARTIAL_OUTAGE)
OPEN = Incident(id="inc-open", name="Cards failing", status=IncidentStatus.IDENTIFIED)
CLOSED = Incident(id="inc-old", name="Old", status=IncidentStatus.RESOLVED)


@pytest.fixture
def store(tmp_path: Path) -> SubscriptionStore:
    return SubscriptionStore(Database.open(f"sqlite:///{tmp_path / 'faro.db'}").engine)


@pytest.fixture
def action_services(
    store: SubscriptionStore, templates: TemplateStore, fake_faq: FakeFaq, fake_status: FakeStatus
) -> ActionServices:
    """Services with the real subscription service over a live status with one open incident."""
    live = LiveStatus()
    live.snapshot = StatusSnapshot(components=(CARDS,), incidents=(OPEN, CLOSED), as_of=NOW)
    return ActionServices(
        faq=fake_faq,
        status=fake_status,
        templates=templates,
        subscriptions=Subscriptions(store, templates=templates, live=live),
    )


@pytest.fixture
def configured(fake_status: FakeStatus) -> FakeStatus:
    """The fake status service the status action answers with."""
    return fake_status


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_subscribe_then_again_then_stop(
    action_services: ActionServices,
    configured: FakeStatus,
    store: SubscriptionStore,
    templates: TemplateStore,
    lang: str,
) -> None:
    def call(action: str) -> dict[str, object]:
        return action_call(action, text="notify me", intent="subscribe", lang=lang)

    assert texts(await run_action(action_services, call("action_subscribe"))) == [
        templates.render("subscribe.confirmed", lang)
    ]
    sub = store.get("web:Qx1bS0m3S3ss10n")
    assert sub is not None and sub.active and sub.lang == lang and sub.components == ()
    assert texts(await run_action(action_services, call("action_subscribe"))) == [
        templates.render("subscribe.already", lang)
    ]
    assert texts(await run_action(action_services, call("action_unsubscribe"))) == [
        templates.render("unsubscribe.confirmed", lang)
    ]
    assert texts(await run_action(action_services, call("action_unsubscribe"))) == [
        templates.render("unsubscribe.not_subscribed", lang)
    ]


async def test_naming_a_component_subscribes_to_it(
    action_services: ActionServices, configured: FakeStatus, store: SubscriptionStore
) -> None:
    call = action_call(
        "action_subscribe",
        text="tell me when card payments work again",
        intent="subscribe",
        sender_id="telegram:4242",
        channel="telegram",
    )
    [text] = texts(await run_action(action_services, call))
    assert text is not None and "Card payments" in text
    sub = store.get("telegram:4242")
    assert sub is not None and sub.components == ("card payments",) and sub.address == "4242"


async def test_a_channel_without_push_cannot_subscribe(
    action_services: ActionServices,
    configured: FakeStatus,
    store: SubscriptionStore,
    templates: TemplateStore,
) -> None:
    call = action_call("action_subscribe", intent="subscribe", sender_id="bench:1")
    assert texts(await run_action(action_services, call)) == [
        templates.render("subscribe.unavailable", "en")
    ]
    assert store.active() == []


def status_reply(incident_id: str | None) -> BotMessage:
    card = StatusCard(Phase.IDENTIFIED, incident_id=incident_id)
    return BotMessage("As of 10:00 UTC, ...", status=card)


async def test_asking_about_an_open_incident_offers_a_subscription_once(
    action_services: ActionServices,
    configured: FakeStatus,
    store: SubscriptionStore,
    templates: TemplateStore,
) -> None:
    configured.reply = status_reply("inc-open")
    call = action_call("action_incident_status", text="is it down?", intent="ask_status")
    first = await run_action(action_services, call)
    assert texts(first) == ["As of 10:00 UTC, ...", templates.render("subscribe.offer", "en")]
    assert first["responses"][1]["buttons"] == [
        {"title": templates.render("button_subscribe", "en"), "payload": payloads.SUBSCRIBE}
    ]
    assert [r.conversation_id for r in store.askers("inc-open")] == ["web:Qx1bS0m3S3ss10n"]
    second = await run_action(action_services, call)
    assert len(second["responses"]) == 1  # offered once only


@pytest.mark.parametrize("incident_id", [None, "inc-old", "unknown"])
async def test_no_offer_without_an_open_incident(
    action_services: ActionServices,
    configured: FakeStatus,
    store: SubscriptionStore,
    incident_id: str | None,
) -> None:
    configured.reply = status_reply(incident_id)
    result = await run_action(
        action_services, action_call("action_incident_status", intent="ask_status")
    )
    assert len(result["responses"]) == 1
    assert store.askers(str(incident_id)) == []


async def test_subscribers_are_not_offered_but_are_noted_as_askers(
    action_services: ActionServices, configured: FakeStatus, store: SubscriptionStore
) -> None:
    await run_action(action_services, action_call("action_subscribe", intent="subscribe"))
    configured.reply = status_reply("inc-open")
    result = await run_action(
        action_services, action_call("action_incident_status", intent="ask_status")
    )
    assert len(result["responses"]) == 1
    assert len(store.askers("inc-open")) == 1


async def test_without_the_service_the_actions_say_so(
    fake_faq: FakeFaq, fake_status: FakeStatus, templates: TemplateStore
) -> None:
    result = await run_action(
        ActionServices(faq=fake_faq, status=fake_status, templates=templates),
        action_call("action_subscribe", intent="subscribe", lang="es"),
    )
    assert texts(result) == [templates.render("subscribe.unavailable", "es")]
