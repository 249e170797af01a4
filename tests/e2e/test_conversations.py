"""End to end: turns through the app's chat endpoint, a real Rasa server and the actions."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.stack import ROOT, Stack
from bot.templates import TemplateStore

pytestmark = pytest.mark.e2e

FAQ = {e["id"]: e for e in yaml.safe_load((ROOT / "data/faq/bank.yml").read_text())["faqs"]}
TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])


def answer(faq_id: str, lang: str) -> str:
    """The FAQ answer text as YAML folds it."""
    return str(FAQ[faq_id]["answer"][lang])


def texts(reply: dict[str, Any]) -> list[str]:
    return [m["text"] for m in reply["messages"]]


def open_incident() -> dict[str, Any]:
    """The open incident of the sample feed."""
    feed = json.loads((ROOT / "data/status/sample.json").read_text())
    return dict(next(i for i in feed["incidents"] if i["status"] != "resolved"))


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("why can't I pay with my card?", "en"),
        ("my card keeps getting declined at the shop", "en"),
        ("¿por qué me rechazan la tarjeta?", "es"),
        ("me rechazan la tarjeta en la tienda", "es"),
    ],
)
def test_faq_question_gets_the_faq_answer_in_its_language(
    stack: Stack, question: str, lang: str
) -> None:
    reply = stack.chat(question)
    assert texts(reply) == [answer("card-payments-failing", lang)]


@pytest.mark.parametrize(
    ("question", "lang", "as_of"),
    [
        ("is the app down?", "en", "as of"),
        ("is something broken right now?", "en", "as of"),
        ("¿cuándo vuelve el servicio?", "es", "a las"),
    ],
)
def test_status_question_gets_the_live_incident(
    stack: Stack, question: str, lang: str, as_of: str
) -> None:
    text = squash(" ".join(texts(stack.chat(question))))
    incident = open_incident()
    assert incident["name"] in text
    assert as_of in text.lower()
    if "app" not in question:  # a general question quotes the latest update
        assert squash(incident["incident_updates"][0]["body"]) in text
    # never an answer from the FAQ for a status question
    assert answer("card-payments-failing", lang) not in text


def test_a_status_answer_is_one_message_with_its_card_and_no_empty_bubble(stack: Stack) -> None:
    # Rasa's REST channel sends the card as a second, text-less reply; the app merges it.
    messages = stack.chat("is something broken right now?")["messages"]
    assert all(str(m.get("text") or "").strip() for m in messages), messages
    [answered] = [m for m in messages if "status" in m]
    assert answered is messages[0] and open_incident()["name"] in answered["text"]
    card = answered["status"]
    assert card["phase"] in ("investigating", "identified", "monitoring")
    assert card["incident_id"] == open_incident()["id"] and card["as_of"]
    assert "custom" not in answered


def test_eta_question_never_invents_an_estimate(stack: Stack) -> None:
    text = " ".join(texts(stack.chat("when will it be fixed?")))
    assert "don't have an estimate" in text


@pytest.mark.parametrize(("greeting", "lang"), [("hola", "es"), ("hello there", "en")])
def test_greeting(stack: Stack, greeting: str, lang: str) -> None:
    assert texts(stack.chat(greeting)) == [TEMPLATES.render("greet", lang)]


@pytest.mark.parametrize(
    ("question", "lang"),
    [("I want to talk to a person", "en"), ("quiero hablar con una persona", "es")],
)
def test_human_request_queues_for_a_person(stack: Stack, question: str, lang: str) -> None:
    # nobody has the inbox open: the queue message says so, with the contact options
    assert texts(stack.chat(question)) == [TEMPLATES.render("handoff_queued_offline", lang)]


def test_unanswerable_question_is_declined_offers_a_person_and_is_recorded(stack: Stack) -> None:
    reply = stack.chat("what's the capital of France?")
    [message] = reply["messages"]
    assert message["text"] == TEMPLATES.render("faq_decline", "en")
    assert {"title": TEMPLATES.render("button_human", "en"), "payload": "/request_human"} in (
        message["buttons"]
    )
    with sqlite3.connect(stack.data_dir / "faro.db") as db:
        rows = db.execute("select text, lang from unanswered_questions").fetchall()
    assert ("what's the capital of France?", "en") in rows
    # pressing the offered button reaches a person
    human = stack.chat("Talk to a person", session=reply["session"], payload="/request_human")
    assert texts(human) == [TEMPLATES.render("handoff_queued_offline", "en")]


def test_choice_button_round_trip_answers_the_chosen_entry(stack: Stack) -> None:
    first = stack.chat("hello")
    reply = stack.chat(
        "Pending transactions",
        session=first["session"],
        payload='/choose_faq{"faq_id":"pending-transactions"}',
    )
    assert texts(reply) == [answer("pending-transactions", "en")]


def test_typed_intent_syntax_is_neutralised(stack: Stack) -> None:
    # Typed by a user, "/restart" must not make Rasa run its restart action.
    reply = stack.chat("/restart")
    assert reply["messages"], "the bot still answers"
    sender = "web:" + reply["session"].split(".")[0]
    db = Path(stack.data_dir) / "rasa" / "tracker-0.db"
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select type_name, intent_name, action_name from events where sender_id = ?",
            (sender,),
        ).fetchall()
    assert rows, "the turn reached Rasa"
    assert not [r for r in rows if r[0] == "restart" or r[2] == "action_restart"]
    assert "restart" not in [r[1] for r in rows if r[0] == "user"]


@pytest.mark.parametrize(
    ("text", "template"),
    [("", "empty_message"), ("   \n\t ", "empty_message"), ("x" * 10_000, "message_too_long")],
)
def test_empty_and_oversized_messages_get_a_clear_answer(
    stack: Stack, text: str, template: str
) -> None:
    expected = TEMPLATES.render(template, "en", limit=1000)
    assert texts(stack.chat(text)) == [expected]


def test_binary_message_is_answered_and_breaks_nothing(stack: Stack) -> None:
    garbage = bytes(range(256)).decode("latin-1") + "\x00\ufffe\U0010ffff"
    reply = stack.chat(garbage)
    assert reply["messages"]
    # raw invalid UTF-8 is refused at the door
    raw = stack.client.post(
        stack.app_url + "/api/chat",
        content=b'{"text": "\xff\xfe\x00"}',
        headers={"content-type": "application/json"},
    )
    assert raw.status_code == 400
    # and the bot still works afterwards
    assert texts(stack.chat("why can't I pay with my card?")) == [
        answer("card-payments-failing", "en")
    ]


def test_conversation_survives_a_rasa_restart(stack: Stack) -> None:
    first = stack.chat("hola")
    sender = "web:" + first["session"].split(".")[0]
    assert stack.rasa is not None
    stack.rasa.terminate()
    stack.rasa.wait(timeout=30)
    down = stack.chat("hola", session=first["session"])
    assert texts(down) == [TEMPLATES.render("dialogue_unavailable", "es")]
    stack.start_rasa()
    again = stack.chat("¿por qué me rechazan la tarjeta?", session=first["session"])
    assert texts(again) == [answer("card-payments-failing", "es")]
    db = Path(stack.data_dir) / "rasa" / "tracker-0.db"
    with sqlite3.connect(db) as conn:
        intents = [
            r[0]
            for r in conn.execute(
                "select intent_name from events where sender_id = ? and type_name = 'user'",
                (sender,),
            )
        ]
    assert intents[:1] == ["greet"] and len(intents) >= 2


def test_action_endpoint_refuses_calls_without_the_token(stack: Stack) -> None:
    body = {"next_action": "action_greet", "sender_id": "x", "tracker": {}, "version": "3.6.21"}
    assert stack.client.post(stack.app_url + "/webhook", json=body).status_code == 403
    wrong = stack.client.post(stack.app_url + "/webhook?token=nope", json=body)
    assert wrong.status_code == 403
