"""actions.status.ActionIncidentStatus through rasa-sdk's executor, with a fake status service."""

from __future__ import annotations

import pytest

from actions.ports import Reply
from tests.bot.helpers import FakeStatus, action_call, run_action, texts

pytestmark = pytest.mark.usefixtures("action_services_configured")


async def test_ask_status_passes_text_and_language(fake_status: FakeStatus) -> None:
    result = await run_action(
        action_call("action_incident_status", text="is the app down?", intent="ask_status")
    )
    assert fake_status.calls == [("is the app down?", "en", False)]
    assert texts(result) == ["All systems operational."]
    assert result["events"] == []


async def test_ask_eta_asks_for_the_eta(fake_status: FakeStatus) -> None:
    await run_action(
        action_call("action_incident_status", text="¿cuándo se arregla?", intent="ask_eta",
                    lang="es")
    )  # fmt: skip
    assert fake_status.calls == [("¿cuándo se arregla?", "es", True)]


@pytest.mark.parametrize("intent", ["ask_status", "faq", "greet"])
async def test_other_intents_do_not_ask_for_the_eta(fake_status: FakeStatus, intent: str) -> None:
    await run_action(action_call("action_incident_status", intent=intent))
    assert fake_status.calls[0][2] is False


async def test_reply_buttons_and_custom_reach_rasa(fake_status: FakeStatus) -> None:
    fake_status.reply = Reply(
        "Card payments are degraded since 09:10.",
        buttons=(("When will it be fixed?", "/ask_eta"),),
        custom={"incident": "inc-1", "state": "investigating"},
    )
    result = await run_action(action_call("action_incident_status", intent="ask_status"))
    [response] = result["responses"]
    assert response["text"] == "Card payments are degraded since 09:10."
    assert response["buttons"] == [{"title": "When will it be fixed?", "payload": "/ask_eta"}]
    assert response["custom"] == {"incident": "inc-1", "state": "investigating"}


async def test_custom_only_reply_has_no_text(fake_status: FakeStatus) -> None:
    fake_status.reply = Reply("", custom={"type": "status-card"})
    result = await run_action(action_call("action_incident_status", intent="ask_status"))
    [response] = result["responses"]
    assert response["text"] is None
    assert response["custom"] == {"type": "status-card"}
