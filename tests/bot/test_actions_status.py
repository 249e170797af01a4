"""actions.status.ActionIncidentStatus through rasa-sdk's executor, with a fake status service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actions.status import ActionIncidentStatus
from bot.core.messages import BotMessage, Button, Phase, StatusCard
from bot.core.ports import ActionServices
from tests.bot.helpers import FakeStatus, action_call, run_action, texts


async def test_ask_status_passes_text_and_language(
    action_services: ActionServices, fake_status: FakeStatus
) -> None:
    result = await run_action(
        action_services,
        action_call("action_incident_status", text="is the app down?", intent="ask_status"),
    )
    assert fake_status.calls == [("is the app down?", "en", False)]
    assert texts(result) == ["All systems operational."]
    assert result["events"] == []


async def test_ask_eta_asks_for_the_eta(
    action_services: ActionServices, fake_status: FakeStatus
) -> None:
    await run_action(action_services,
        action_call("action_incident_status", text="¿cuándo se arregla?", intent="ask_eta",
                    lang="es")
    )  # fmt: skip
    assert fake_status.calls == [("¿cuándo se arregla?", "es", True)]


@pytest.mark.parametrize("intent", ["ask_status", "faq", "greet"])
async def test_other_intents_do_not_ask_for_the_eta(
    action_services: ActionServices, fake_status: FakeStatus, intent: str
) -> None:
    await run_action(action_services, action_call("action_incident_status", intent=intent))
    assert fake_status.calls[0][2] is False


CARD = StatusCard(
    Phase.INVESTIGATING,
    incident_id="inc-1",
    components=("Card payments",),
    as_of=datetime(2024, 5, 1, 9, 10, tzinfo=UTC),
)


async def test_text_buttons_and_card_reach_rasa_as_one_response(
    action_services: ActionServices, fake_status: FakeStatus
) -> None:
    fake_status.reply = BotMessage(
        "Card payments are degraded since 09:10.",
        buttons=(Button("When will it be fixed?", "/ask_eta"),),
        status=CARD,
    )
    result = await run_action(
        action_services, action_call("action_incident_status", intent="ask_status")
    )
    [response] = result["responses"]
    assert response["text"] == "Card payments are degraded since 09:10."
    assert response["buttons"] == [{"title": "When will it be fixed?", "payload": "/ask_eta"}]
    assert response["custom"] == {
        "status": {
            "phase": "investigating",
            "incident_id": "inc-1",
            "components": ["Card payments"],
            "as_of": "2024-05-01T09:10:00+00:00",
            "stale": False,
        }
    }


async def test_a_reply_without_a_card_sends_no_custom(
    action_services: ActionServices, fake_status: FakeStatus
) -> None:
    result = await run_action(
        action_services, action_call("action_incident_status", intent="ask_status")
    )
    [response] = result["responses"]
    assert response["text"] == "All systems operational."
    assert not response["custom"]


def test_the_status_action_needs_a_status_service() -> None:
    with pytest.raises(TypeError, match="status service"):
        ActionIncidentStatus(status=None)  # type: ignore[arg-type]
