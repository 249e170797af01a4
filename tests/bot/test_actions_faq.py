"""actions.faq.ActionAnswerFaq through rasa-sdk's executor, with a fake FAQ answerer."""

from __future__ import annotations

import threading

import pytest

from actions.faq import ActionAnswerFaq
from bot.core.ports import ActionServices
from bot.templates import TemplateStore
from tests.bot.helpers import (
    FakeFaq,
    action_call,
    choose_faq_call,
    decision,
    faq_entry,
    run_action,
    texts,
)

CARD = faq_entry(
    "card-payments-failing",
    en=("Why are my card payments failing?", "Card payments are failing because of the outage."),
    es=(
        "¿Por qué fallan mis pagos con tarjeta?",
        "Los pagos con tarjeta fallan por la incidencia.",
    ),
)
DOUBLE = faq_entry(
    "double-charge",
    en=("Was I charged twice?", "Double charges are reversed automatically."),
    es=("¿Me han cobrado dos veces?", "Los cargos duplicados se devuelven automáticamente."),
)
ATM = faq_entry("atm-withdrawals", en=("Can I use ATMs?", "ATMs work."))  # English only


async def test_answer(action_services: ActionServices, fake_faq: FakeFaq) -> None:
    fake_faq.next_decision = decision("answer", CARD)
    result = await run_action(
        action_services, action_call("action_answer_faq", text="my card payment failed")
    )
    assert texts(result) == ["Card payments are failing because of the outage."]
    assert result["responses"][0]["buttons"] == []
    assert result["events"] == []
    assert fake_faq.decided == [("my card payment failed", "en")]
    assert fake_faq.unanswered == []


async def test_answer_in_the_language_from_the_user_event(
    action_services: ActionServices, fake_faq: FakeFaq
) -> None:
    fake_faq.next_decision = decision("answer", CARD)
    result = await run_action(
        action_services,
        action_call("action_answer_faq", text="no puedo pagar con la tarjeta", lang="es"),
    )
    assert texts(result) == ["Los pagos con tarjeta fallan por la incidencia."]
    assert fake_faq.decided == [("no puedo pagar con la tarjeta", "es")]


async def test_answer_falls_back_to_english_when_the_entry_has_no_spanish(
    action_services: ActionServices,
    fake_faq: FakeFaq,
) -> None:
    fake_faq.next_decision = decision("answer", ATM)
    result = await run_action(
        action_services, action_call("action_answer_faq", text="cajero", lang="es")
    )
    assert texts(result) == ["ATMs work."]


@pytest.mark.parametrize("lang", [None, "fr", ""])
async def test_missing_or_unsupported_language_means_english(
    action_services: ActionServices, fake_faq: FakeFaq, lang: str | None
) -> None:
    fake_faq.next_decision = decision("answer", CARD)
    result = await run_action(action_services, action_call("action_answer_faq", lang=lang))
    assert texts(result) == ["Card payments are failing because of the outage."]
    assert fake_faq.decided[0][1] == "en"


async def test_choose_offers_each_match_and_a_person(
    action_services: ActionServices, fake_faq: FakeFaq, templates: TemplateStore
) -> None:
    fake_faq.next_decision = decision("choose", CARD, DOUBLE, scores=[0.6, 0.5])
    result = await run_action(
        action_services, action_call("action_answer_faq", text="payment problem")
    )
    [response] = result["responses"]
    assert response["text"] == templates.render("faq_choose", "en")
    assert response["buttons"] == [
        {"title": "Why are my card payments failing?",
         "payload": '/choose_faq{"faq_id":"card-payments-failing"}'},
        {"title": "Was I charged twice?", "payload": '/choose_faq{"faq_id":"double-charge"}'},
        {"title": templates.render("button_human", "en"), "payload": "/request_human"},
    ]  # fmt: skip
    assert fake_faq.unanswered == []


async def test_choose_in_spanish_with_english_fallback_titles(
    action_services: ActionServices, fake_faq: FakeFaq, templates: TemplateStore
) -> None:
    fake_faq.next_decision = decision("choose", CARD, ATM)
    result = await run_action(
        action_services, action_call("action_answer_faq", text="pagos", lang="es")
    )
    [response] = result["responses"]
    assert response["text"] == templates.render("faq_choose", "es")
    assert [b["title"] for b in response["buttons"]] == [
        "¿Por qué fallan mis pagos con tarjeta?",
        "Can I use ATMs?",
        templates.render("button_human", "es"),
    ]


async def test_choice_payloads_pass_the_dialogue_core_allow_list(
    action_services: ActionServices, fake_faq: FakeFaq
) -> None:
    # The buttons the action issues must come back through RasaConversation as payloads.
    from bot.rasa.payloads import is_bot_payload

    fake_faq.next_decision = decision("choose", CARD, DOUBLE, ATM)
    result = await run_action(action_services, action_call("action_answer_faq"))
    payloads = [b["payload"] for b in result["responses"][0]["buttons"]]
    assert len(payloads) == 4
    assert all(is_bot_payload(p) for p in payloads), payloads


async def test_decline_records_the_question_and_offers_a_person(
    action_services: ActionServices, fake_faq: FakeFaq, templates: TemplateStore
) -> None:
    fake_faq.next_decision = decision("decline")
    result = await run_action(
        action_services,
        action_call("action_answer_faq", text="can I open a mortgage?", sender_id="web:zz"),
    )
    [response] = result["responses"]
    assert response["text"] == templates.render("faq_decline", "en")
    assert response["buttons"] == [
        {"title": templates.render("button_human", "en"), "payload": "/request_human"}
    ]
    assert fake_faq.unanswered == [("can I open a mortgage?", "en", "web:zz")]
    # a database write in production: never on the event loop's thread
    assert fake_faq.recorded_on and threading.get_ident() not in fake_faq.recorded_on


async def test_decline_in_spanish(
    action_services: ActionServices, fake_faq: FakeFaq, templates: TemplateStore
) -> None:
    fake_faq.next_decision = decision("decline")
    result = await run_action(
        action_services,
        action_call("action_answer_faq", text="¿puedo pedir una hipoteca?", lang="es"),
    )
    assert texts(result) == [templates.render("faq_decline", "es")]
    assert result["responses"][0]["buttons"][0]["title"] == templates.render("button_human", "es")
    assert fake_faq.unanswered[0][:2] == ("¿puedo pedir una hipoteca?", "es")


async def test_choose_faq_answers_that_entry_without_searching(
    action_services: ActionServices, fake_faq: FakeFaq
) -> None:
    fake_faq.entries = {e.id: e for e in (CARD, DOUBLE)}
    result = await run_action(action_services, choose_faq_call("double-charge"))
    assert texts(result) == ["Double charges are reversed automatically."]
    assert fake_faq.looked_up == [("double-charge", "en")]
    assert fake_faq.decided == []
    assert fake_faq.unanswered == []


async def test_choose_faq_in_spanish(action_services: ActionServices, fake_faq: FakeFaq) -> None:
    fake_faq.entries = {CARD.id: CARD}
    result = await run_action(action_services, choose_faq_call(CARD.id, lang="es"))
    assert texts(result) == ["Los pagos con tarjeta fallan por la incidencia."]
    assert fake_faq.looked_up == [(CARD.id, "es")]


async def test_faq_id_entity_is_ignored_unless_the_intent_is_choose_faq(
    action_services: ActionServices, fake_faq: FakeFaq
) -> None:
    fake_faq.entries = {CARD.id: CARD}
    fake_faq.next_decision = decision("answer", DOUBLE)
    call = action_call(
        "action_answer_faq",
        text="charged twice",
        intent="faq",
        entities=[{"entity": "faq_id", "value": CARD.id, "start": 0, "end": 3}],
    )
    assert texts(await run_action(action_services, call)) == [
        "Double charges are reversed automatically."
    ]
    assert fake_faq.looked_up == []


async def test_choose_faq_for_a_retired_entry_says_so_and_offers_a_person(
    action_services: ActionServices, fake_faq: FakeFaq, templates: TemplateStore
) -> None:
    fake_faq.next_decision = decision("answer", CARD)
    result = await run_action(action_services, choose_faq_call("removed-entry"))
    assert fake_faq.looked_up == [("removed-entry", "en")]
    assert fake_faq.decided == [], "a stale button is not searched as text"
    assert texts(result) == [templates.render("faq_choice_gone", "en")]
    assert fake_faq.unanswered == [], "the raw payload is not recorded as a question"


def test_the_faq_action_needs_the_faq_and_templates(
    fake_faq: FakeFaq, templates: TemplateStore
) -> None:
    # A missing service fails when the app starts, not on a customer's turn.
    with pytest.raises(TypeError, match="the FAQ"):
        ActionAnswerFaq(faq=None, templates=templates)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="templates"):
        ActionAnswerFaq(faq=fake_faq, templates=None)  # type: ignore[arg-type]


async def test_each_action_set_uses_the_services_it_was_built_with(
    action_services: ActionServices, templates: TemplateStore
) -> None:
    other = FakeFaq(next_decision=decision("answer", ATM))
    mine = ActionServices(faq=other, status=action_services.status, templates=templates)
    assert texts(await run_action(mine, action_call("action_answer_faq"))) == ["ATMs work."]
    assert texts(await run_action(action_services, action_call("action_answer_faq"))) == [
        templates.render("faq_decline", "en")
    ]
