"""The /faro staff command: status, ask, unanswered, usage, and who may use it."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.testclient import TestClient

from bot.channels.slack.staff import USAGE, parse
from bot.core.messages import BotMessage
from bot.store import AppStore
from tests.bot.helpers import FakeStatus
from tests.channels.slack.conftest import SlackClientFactory
from tests.helpers.slack_fake import MockSlackApi, post_signed, slash_command


def run(client: TestClient, api: MockSlackApi, text: str, **kw: Any) -> tuple[Any, list[Any]]:
    """Post ``/faro text``; return the HTTP ack and the responses sent to response_url."""
    before = len(api.of("response_url"))
    started = time.monotonic()
    ack = post_signed(client, slash_command(text, response_url=api.response_url(), **kw), form=True)
    assert time.monotonic() - started < 3
    return ack, api.wait_for("response_url", before + 1)[before:]


def mrkdwn(body: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")


def test_status_shows_what_customers_are_told(
    client: TestClient, slack_api: MockSlackApi, status: FakeStatus
) -> None:
    status.reply = BotMessage("Payments are down since 09:12 <!channel> & co. (as of 10:00 UTC)")
    ack, [response] = run(client, slack_api, "status")
    assert ack.status_code == 200 and ack.text == ""
    assert response.body["response_type"] == "ephemeral"
    text = mrkdwn(response.body)
    assert "Payments are down since 09:12 &lt;!channel&gt; &amp; co. (as of 10:00 UTC)" in text
    assert "<!channel>" not in json.dumps(response.body)
    assert status.calls == [("status", "en", False)]


def test_status_about_a_component_passes_the_question(
    client: TestClient, slack_api: MockSlackApi, status: FakeStatus
) -> None:
    run(client, slack_api, "status   ¿funcionan los pagos?")
    assert status.calls == [("¿funcionan los pagos?", "es", False)]


def test_ask_shows_the_decision_the_answer_and_scores(
    client: TestClient, slack_api: MockSlackApi
) -> None:
    _, [response] = run(client, slack_api, "ask Who do I tell about the outage?")
    text = mrkdwn(response.body)
    assert "*Decision:* answer" in text
    assert "`all-hands`" in text
    assert "Tell &lt;!channel&gt; and &lt;@U123&gt; &amp; friends &lt;b&gt;now&lt;/b&gt;." in text
    scores = [line for line in text.splitlines() if line.startswith("• `")]
    assert 1 <= len(scores) <= 5
    values = [float(line.split("`")[1]) for line in scores]
    assert values == sorted(values, reverse=True) and all(0 <= v <= 1 for v in values)
    raw = json.dumps(response.body)
    assert "<!channel>" not in raw and "<@U123>" not in raw


def test_ask_escapes_the_question(client: TestClient, slack_api: MockSlackApi) -> None:
    _, [response] = run(client, slack_api, "ask <!here> what is the capital of France?")
    text = mrkdwn(response.body)
    assert "&lt;!here&gt; what is the capital of France?" in text
    assert "*Decision:*" in text
    assert "<!here>" not in json.dumps(response.body)


def test_unanswered_lists_recent_misses_with_counts(
    client: TestClient, slack_api: MockSlackApi, store: AppStore
) -> None:
    store.record_unanswered("what about <!everyone>?", "en", conversation_id="slack:T:U1")
    store.record_unanswered("What about   <!everyone>?", "en", conversation_id="slack:T:U2")
    store.record_unanswered("¿y el cajero?", "es", conversation_id="web:abc")
    _, [response] = run(client, slack_api, "unanswered")
    text = mrkdwn(response.body)
    assert "×2 (en, last " in text and "what about &lt;!everyone&gt;?" in text.lower()
    assert "×1 (es, last " in text and "¿y el cajero?" in text
    assert text.index("cajero") < text.index("everyone")  # most recent first
    assert "<!everyone>" not in json.dumps(response.body)


def test_unanswered_when_there_are_none(client: TestClient, slack_api: MockSlackApi) -> None:
    _, [response] = run(client, slack_api, "unanswered")
    assert "No unanswered questions" in mrkdwn(response.body)


def test_bad_usage_is_answered_in_the_ack_and_nothing_runs(
    client: TestClient, slack_api: MockSlackApi, status: FakeStatus
) -> None:
    for text in ("", "help", "ask", "ask    ", "unanswered please", "statuses"):
        body = slash_command(text, response_url=slack_api.response_url())
        ack = post_signed(client, body, form=True)
        assert ack.status_code == 200
        assert ack.json() == {"text": USAGE, "response_type": "ephemeral"}
    time.sleep(0.3)
    assert slack_api.of("response_url") == [] and status.calls == []


def test_an_unsigned_command_is_refused(client: TestClient, slack_api: MockSlackApi) -> None:
    body = slash_command("unanswered", response_url=slack_api.response_url())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/slack/events", content=body, headers=headers).status_code == 401


def test_only_staff_may_use_it_when_staff_are_listed(
    make_client: SlackClientFactory, slack_api: MockSlackApi, status: FakeStatus
) -> None:
    client = make_client(slack_staff_users=("U0BOSS",))
    body = slash_command("status", response_url=slack_api.response_url(), user="U0CUSTOMER")
    ack = post_signed(client, body, form=True)
    assert "for staff" in ack.json()["text"]
    _, [response] = run(client, slack_api, "status", user="U0BOSS")
    assert status.calls == [("status", "en", False)]
    assert response.body["response_type"] == "ephemeral"


def test_nobody_may_use_it_when_no_staff_are_listed(
    make_client: SlackClientFactory, slack_api: MockSlackApi, store: AppStore, status: FakeStatus
) -> None:
    # The attack: FARO_SLACK_STAFF_USERS unset let any workspace member read customers' questions.
    store.record_unanswered("my account 12345 is locked", "en", conversation_id="web:victim")
    client = make_client(slack_staff_users=())
    for text in ("unanswered", "status", "ask why"):
        body = slash_command(text, response_url=slack_api.response_url(), user="U0ANYONE")
        ack = post_signed(client, body, form=True)
        assert ack.status_code == 200
        reply = ack.json()["text"]
        assert "for staff" in reply and "FARO_SLACK_STAFF_USERS" in reply and "U0ANYONE" in reply
        assert "12345" not in json.dumps(ack.json())
    time.sleep(0.3)
    assert slack_api.of("response_url") == [] and status.calls == []


def test_a_star_opens_it_to_the_whole_workspace_on_purpose(
    make_client: SlackClientFactory, slack_api: MockSlackApi, status: FakeStatus
) -> None:
    client = make_client(slack_staff_users=("*",))
    _, [response] = run(client, slack_api, "status", user="U0ANYONE")
    assert status.calls == [("status", "en", False)]


def test_parse() -> None:
    assert parse("status") == ("status", "")
    assert parse("  ASK  why   no pay ") == ("ask", "why no pay")
    assert parse("unanswered") == ("unanswered", "")
    assert parse("ask") is None and parse("nope") is None and parse("") is None
