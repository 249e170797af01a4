"""actions.handoff: asking for a person queues the conversation and pauses Rasa; never mind."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.ports import ActionServices
from bot.db import Database
from bot.handoff.service import HandoffService
from bot.handoff.store import HandoffStore
from bot.templates import TemplateStore
from tests.bot.helpers import action_call, run_action, texts


@pytest.fixture
def desk(tmp_path: Path, templates: TemplateStore) -> HandoffService:
    db = Database.open(f"sqlite:///{tmp_path / 'faro.db'}")
    return HandoffService(HandoffStore(db.engine), templates)


async def test_request_queues_with_the_transcript_and_pauses(
    action_services: ActionServices, desk: HandoffService
) -> None:
    services = replace(action_services, handoffs=desk)
    call = action_call(
        "action_request_human", text="quiero hablar con una persona", intent="request_human",
        lang="es", channel="telegram", sender_id="telegram:42",
    )  # fmt: skip
    events = call["tracker"]["events"]
    user_at = next(i for i, e in enumerate(events) if e["event"] == "user")
    events.insert(
        user_at, {"event": "bot", "timestamp": 1.0e9, "text": "Hola, soy el asistente", "data": {}}
    )
    result = await run_action(services, call)
    [text] = texts(result)
    assert text is not None and "no hay nadie de nuestro equipo conectado" in text
    assert [b["payload"] for b in result["responses"][0]["buttons"]] == ["/cancel_handoff"]
    assert [e["event"] for e in result["events"]] == ["pause"]
    handoff = desk.current("telegram:42")
    assert handoff is not None and (handoff.channel, handoff.lang) == ("telegram", "es")
    transcript = [(m.role, m.text) for m in desk.store.transcript(handoff.id)]
    assert transcript == [
        ("bot", "Hola, soy el asistente"),
        ("user", "quiero hablar con una persona"),
        ("bot", text),
    ]


async def test_without_a_desk_it_gives_the_contact_options(
    action_services: ActionServices, templates: TemplateStore
) -> None:
    call = action_call("action_request_human", intent="request_human")
    result = await run_action(action_services, call)
    assert texts(result) == [templates.render("request_human", "en")]
    assert result["events"] == []


async def test_cancel_takes_the_conversation_out_of_the_queue(
    action_services: ActionServices, desk: HandoffService
) -> None:
    services = replace(action_services, handoffs=desk)
    desk.request("web:Qx1bS0m3S3ss10n", "web", "en")
    result = await run_action(services, action_call("action_cancel_handoff", text="never mind"))
    assert texts(result) == [desk._templates.render("handoff_cancelled", "en")]
    assert desk.current("web:Qx1bS0m3S3ss10n") is None
