"""bot.rasa.action_server.action_route: Rasa's action endpoint with a shared token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.core.ports import ActionServices
from bot.http import EXCEPTION_HANDLERS
from bot.rasa.action_server import MAX_ACTION_CALL_BYTES, action_route, actions_route
from bot.templates import TemplateStore
from tests.bot.helpers import FakeFaq, action_call

TOKEN = "shared-action-token"


class ActionEcho(Action):
    """Echoes what it read from the tracker: proves the call reached the action intact."""

    seen: list[dict[str, Any]] = []

    def name(self) -> str:
        return "action_echo"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ActionEcho.seen.append(
            {
                "sender": tracker.sender_id,
                "text": tracker.latest_message.get("text"),
                "intent": tracker.get_intent_of_latest_message(),
                "domain_intents": (domain or {}).get("intents"),
            }
        )
        dispatcher.utter_message(
            text=f"echo: {tracker.latest_message.get('text')}",
            buttons=[{"title": "Again", "payload": "/request_human"}],
        )
        return [SlotSet("last_echo", tracker.latest_message.get("text"))]


class ActionRejects(Action):
    def name(self) -> str:
        return "action_rejects"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict[str, Any]]:
        from rasa_sdk.interfaces import ActionExecutionRejection

        raise ActionExecutionRejection("action_rejects", "cannot do that now")


@pytest.fixture
def client() -> Iterator[TestClient]:
    ActionEcho.seen = []
    app = Starlette(
        routes=[actions_route(registered=[ActionEcho(), ActionRejects()], token=TOKEN)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    with TestClient(app) as c:
        yield c


def post(client: TestClient, body: Any, *, token: str | None = TOKEN) -> Any:
    url = "/webhook" if token is None else f"/webhook?token={token}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(url, content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper()])
def test_missing_or_wrong_token_is_403(client: TestClient, token: str | None) -> None:
    r = post(client, action_call("action_echo"), token=token)
    assert r.status_code == 403
    assert ActionEcho.seen == []


def test_token_in_a_header_instead_of_the_query_is_403(client: TestClient) -> None:
    r = client.post(
        "/webhook", json=action_call("action_echo"), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert r.status_code == 403


def test_token_is_checked_before_the_body_is_parsed(client: TestClient) -> None:
    assert post(client, b"not json", token="wrong").status_code == 403


def test_good_token_runs_the_action(client: TestClient) -> None:
    r = post(client, action_call("action_echo", text="is it down?", intent="ask_status",
                                 sender_id="web:abc"))  # fmt: skip
    assert r.status_code == 200
    assert ActionEcho.seen == [
        {"sender": "web:abc", "text": "is it down?", "intent": "ask_status",
         "domain_intents": action_call("x")["domain"]["intents"]}
    ]  # fmt: skip
    body = r.json()
    # rasa-sdk's reply format, which Rasa 3.6 reads: {"events": [...], "responses": [...]}.
    assert set(body) == {"events", "responses"}
    assert body["events"] == [
        {"event": "slot", "timestamp": None, "name": "last_echo", "value": "is it down?"}
    ]
    [response] = body["responses"]
    assert response["text"] == "echo: is it down?"
    assert response["buttons"] == [{"title": "Again", "payload": "/request_human"}]
    assert {"elements", "custom", "template", "response", "image", "attachment"} <= set(response)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"", b"{", b"\xff\xfe\x00", b'{"next_action": "\xff"}'],
    ids=["text", "empty", "truncated", "binary", "invalid-utf8"],
)
def test_invalid_json_is_400(client: TestClient, body: bytes) -> None:
    r = post(client, body)
    assert r.status_code == 400
    assert ActionEcho.seen == []


@pytest.mark.parametrize("body", [[], "action_echo", 3, None])
def test_non_object_is_400(client: TestClient, body: Any) -> None:
    assert post(client, body).status_code == 400


def test_unknown_action_is_404(client: TestClient) -> None:
    r = post(client, action_call("action_does_not_exist"))
    assert r.status_code == 404
    assert r.json()["action_name"] == "action_does_not_exist"


def test_rejection_is_400_with_the_action_name(client: TestClient) -> None:
    r = post(client, action_call("action_rejects"))
    assert r.status_code == 400
    assert r.json() == {"error": "cannot do that now", "action_name": "action_rejects"}


def test_call_without_domain_runs_with_an_empty_one(client: TestClient) -> None:
    # endpoints.yml enables selective domain: Rasa 3.6 then sends no domain and
    # no digest, and never retries on rasa-sdk's 449. The actions don't need it.
    r = post(client, action_call("action_echo", domain=None, text="hi"))
    assert r.status_code == 200
    assert ActionEcho.seen[-1]["text"] == "hi"
    assert ActionEcho.seen[-1]["domain_intents"] is None


def test_call_without_next_action_returns_null(client: TestClient) -> None:
    call = action_call("action_echo")
    del call["next_action"]
    r = post(client, call)
    assert r.status_code == 200
    assert r.json() is None
    assert ActionEcho.seen == []


def test_oversized_call_is_413(client: TestClient) -> None:
    call = action_call("action_echo", text="a" * MAX_ACTION_CALL_BYTES)
    r = post(client, call)
    assert r.status_code == 413
    assert ActionEcho.seen == []


def test_oversized_call_without_token_is_403(client: TestClient) -> None:
    r = post(client, b"x" * (MAX_ACTION_CALL_BYTES + 1), token=None)
    assert r.status_code == 403


def test_only_post_is_allowed(client: TestClient) -> None:
    assert client.get(f"/webhook?token={TOKEN}").status_code == 405


def test_faro_actions_over_the_route(
    action_services: ActionServices, fake_faq: FakeFaq, templates: TemplateStore
) -> None:
    app = Starlette(
        routes=[action_route(services=action_services, token=TOKEN)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    with TestClient(app) as c:
        r = post(c, action_call("action_answer_faq", text="¿hipoteca?", lang="es"))
    assert r.status_code == 200
    [response] = r.json()["responses"]
    assert response["text"] == templates.render("faq_decline", "es")
    assert response["buttons"] == [
        {"title": templates.render("button_human", "es"), "payload": "/request_human"}
    ]
    assert fake_faq.unanswered == [("¿hipoteca?", "es", "web:Qx1bS0m3S3ss10n")]


@pytest.mark.parametrize("names", [["action_echo", "action_echo"], [""]])
def test_empty_or_duplicate_action_names_fail_at_start(names: list[str]) -> None:
    # rasa-sdk would silently keep only the last action registered under a name.
    class Named(ActionEcho):
        def __init__(self, name: str) -> None:
            self._name = name

        def name(self) -> str:
            return self._name

    with pytest.raises(ValueError, match="registered twice"):
        actions_route(registered=[Named(n) for n in names], token=TOKEN)
