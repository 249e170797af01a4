"""bot.channels.slack.events over HTTP: signatures, acks, retries, filtering, replies, buttons."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient

from bot.channels.base import ChannelParts
from bot.channels.slack.events import SlackHandlers, build_bolt_app
from bot.channels.slack.sender import SlackSender, make_client
from bot.channels.slack.staff import StaffTools
from bot.channels.slack.store import SeenEvents
from bot.channels.slack.transport import events_route
from bot.channels.turns import TurnDispatcher
from bot.core.messages import BotMessage, Button, Turn
from bot.dialogue import RasaConversation
from tests.bot.helpers import FakeConversation
from tests.channels.slack.conftest import SlackClientFactory, channel_app
from tests.helpers.rasa_fake import FakeRasa, RasaRequest
from tests.helpers.slack_fake import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    TEAM_ID,
    MockSlackApi,
    button_press,
    dm,
    event_callback,
    mention,
    post_signed,
    signed_headers,
)


def wait_turns(conversation: FakeConversation, n: int, timeout_s: float = 10.0) -> list[Turn]:
    deadline = time.monotonic() + timeout_s
    while len(conversation.turns) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return conversation.turns


def section_texts(call_body: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in call_body["blocks"] if b["type"] == "section"]


# --- signature verification (bolt) -----------------------------------------------------


def test_a_signed_event_is_accepted(client: TestClient, conversation: FakeConversation) -> None:
    response = post_signed(client, dm("hello"))
    assert response.status_code == 200
    assert [t.text for t in wait_turns(conversation, 1)] == ["hello"]


def test_a_stale_timestamp_is_refused(
    client: TestClient, conversation: FakeConversation, slack_api: MockSlackApi
) -> None:
    response = post_signed(client, dm("hello"), timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    time.sleep(0.3)
    assert conversation.turns == [] and slack_api.of("chat.postMessage") == []


def test_a_timestamp_from_the_future_is_refused(client: TestClient) -> None:
    assert post_signed(client, dm("hello"), timestamp=int(time.time()) + 301).status_code == 401


def test_a_tampered_body_is_refused(client: TestClient, conversation: FakeConversation) -> None:
    body = dm("hello")
    headers = signed_headers(body)
    tampered = body.replace(b"hello", b"HELLO")
    assert client.post("/slack/events", content=tampered, headers=headers).status_code == 401
    time.sleep(0.3)
    assert conversation.turns == []


def test_a_signature_with_another_secret_is_refused(client: TestClient) -> None:
    assert post_signed(client, dm("hello"), secret="not-the-secret").status_code == 401


def test_missing_headers_are_refused(client: TestClient, conversation: FakeConversation) -> None:
    body = dm("hello")
    full = signed_headers(body)
    for drop in ("X-Slack-Signature", "X-Slack-Request-Timestamp"):
        headers = {k: v for k, v in full.items() if k != drop}
        assert client.post("/slack/events", content=body, headers=headers).status_code == 401
    bare = {"Content-Type": "application/json"}
    assert client.post("/slack/events", content=body, headers=bare).status_code == 401
    time.sleep(0.3)
    assert conversation.turns == []


def test_url_verification_is_answered_after_the_signature_check(client: TestClient) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c4allenge"}).encode()
    assert post_signed(client, body).json() == {"challenge": "c4allenge"}
    headers = {"Content-Type": "application/json"}
    assert client.post("/slack/events", content=body, headers=headers).status_code == 401


def test_an_oversized_or_non_utf8_body_is_refused(client: TestClient) -> None:
    big = b'{"x":"' + b"a" * 300_000 + b'"}'
    assert post_signed(client, big).status_code == 413
    assert post_signed(client, b"\xff\xfe").status_code == 400


# --- turns ----------------------------------------------------------------------------


def test_a_dm_becomes_a_turn_and_a_block_kit_reply(
    client: TestClient, conversation: FakeConversation, slack_api: MockSlackApi
) -> None:
    conversation.replies = [BotMessage("Card payments are failing.")]
    post_signed(client, dm("why can't I pay?", user="U0ANA", channel="D0ANA"))
    [turn] = wait_turns(conversation, 1)
    assert turn == Turn(
        conversation_id=f"slack:{TEAM_ID}:U0ANA", channel="slack", text="why can't I pay?"
    )
    [call] = slack_api.wait_for("chat.postMessage")
    assert call.body["channel"] == "D0ANA" and "thread_ts" not in call.body
    assert section_texts(call.body) == ["Card payments are failing."]
    assert call.body["text"] == "Card payments are failing."
    assert call.authorization == "Bearer xoxb-1111-2222-faketesttoken"


def test_a_mention_is_answered_in_its_thread_without_the_mention(
    client: TestClient, conversation: FakeConversation, slack_api: MockSlackApi
) -> None:
    body = mention("is the app down?", channel="C0GENERAL")
    post_signed(client, body)
    [turn] = wait_turns(conversation, 1)
    assert turn.text == "is the app down?"
    [call] = slack_api.wait_for("chat.postMessage")
    assert call.body["channel"] == "C0GENERAL"
    assert call.body["thread_ts"] == json.loads(body)["event"]["ts"]


def test_a_retried_event_is_handled_once(
    client: TestClient, conversation: FakeConversation, slack_api: MockSlackApi
) -> None:
    body = dm("hello")
    assert post_signed(client, body).status_code == 200
    for retry in (1, 2, 3):
        assert post_signed(client, body, retry_num=retry).status_code == 200
    slack_api.wait_for("chat.postMessage")
    post_signed(client, dm("second message"))  # a new event still goes through
    slack_api.wait_for("chat.postMessage", 2)
    time.sleep(0.3)
    assert [t.text for t in conversation.turns] == ["hello", "second message"]
    assert len(slack_api.of("chat.postMessage")) == 2


def test_a_retry_after_a_restart_or_on_another_replica_is_handled_once(
    make_client: SlackClientFactory, conversation: FakeConversation, slack_api: MockSlackApi
) -> None:
    # The attack: seen event ids lived in memory, so a retry reaching a restarted process or
    # another replica (same app database) was answered twice.
    first, restarted = make_client(), make_client()
    body = dm("hello")
    assert post_signed(first, body).status_code == 200
    slack_api.wait_for("chat.postMessage")
    for retry in (1, 2):
        assert post_signed(restarted, body, retry_num=retry).status_code == 200
    post_signed(restarted, dm("second message"))
    slack_api.wait_for("chat.postMessage", 2)
    time.sleep(0.3)
    assert [t.text for t in conversation.turns] == ["hello", "second message"]
    assert len(slack_api.of("chat.postMessage")) == 2


def test_bots_edits_and_notices_are_ignored(
    client: TestClient, conversation: FakeConversation, slack_api: MockSlackApi
) -> None:
    bodies = [
        dm("I am Faro", user=BOT_USER_ID, bot_id=BOT_ID),  # the bot's own message
        dm("I am Faro too", user=BOT_USER_ID),  # its own, without bot_id
        dm("beep", bot_id="B0OTHER", subtype="bot_message"),  # another bot
        dm("beep", bot_id="B0OTHER"),  # another bot posting as an app user
        dm("edited", subtype="message_changed"),
        dm("gone", subtype="message_deleted"),
        dm("joined", subtype="channel_join"),
        event_callback({"type": "message", "channel_type": "channel", "user": "U1",
                        "text": "chatter in a channel", "channel": "C1", "ts": "1.1"}),
    ]  # fmt: skip
    for body in bodies:
        assert post_signed(client, body).status_code == 200
    post_signed(client, dm("a person"))
    wait_turns(conversation, 1)
    time.sleep(0.3)
    assert [t.text for t in conversation.turns] == ["a person"]
    slack_api.wait_for("chat.postMessage")
    assert len(slack_api.of("chat.postMessage")) == 1


def test_ack_is_fast_while_rasa_is_slow(
    make_client: SlackClientFactory, slack_api: MockSlackApi, services: Any
) -> None:
    async def slow_rasa(request: RasaRequest) -> Response:
        await asyncio.sleep(4)
        sender = request.json()["sender"]
        return JSONResponse([{"recipient_id": sender, "text": "slow answer"}])

    with FakeRasa(respond=slow_rasa).running() as fake_rasa:
        rasa = fake_rasa.client(timeout_s=30)
        conversation = RasaConversation(rasa=rasa, templates=services.templates)
        client = make_client(conversation)
        started = time.monotonic()
        response = post_signed(client, dm("is the app down?"))
        acked_s = time.monotonic() - started
        assert response.status_code == 200
        assert acked_s < 1.0  # Slack wants 3 s
        [call] = slack_api.wait_for("chat.postMessage", timeout_s=20)
    assert section_texts(call.body) == ["slow answer"]
    assert call.at - started >= 3.9


def test_a_full_queue_answers_503_and_the_retry_is_handled(
    services: Any, settings: Any, slack_api: MockSlackApi
) -> None:
    gate = asyncio.Event()

    class Blocked(FakeConversation):
        async def handle(self, turn: Turn) -> list[BotMessage]:
            self.turns.append(turn)
            await gate.wait()
            return [BotMessage("done")]

    blocked = Blocked()
    sender = SlackSender(make_client(token=BOT_TOKEN, base_url=slack_api.url))
    queue = TurnDispatcher(name="Slack", concurrency=1, max_pending=2)  # one running, one waiting
    handlers = SlackHandlers(
        conversation=blocked,
        sender=sender,
        queue=queue,
        staff=StaffTools(status=services.status, faq=services.faq, store=services.store),
        seen=SeenEvents(services.store.engine),
    )
    app = build_bolt_app(client=sender.client, signing_secret=SIGNING_SECRET, handlers=handlers)
    parts = ChannelParts(routes=[events_route(app)], background=[queue])
    with TestClient(channel_app(parts)) as client:
        assert post_signed(client, dm("one", user="U1")).status_code == 200
        wait_turns(blocked, 1)  # the worker is busy
        assert post_signed(client, dm("two", user="U2")).status_code == 200  # queued
        third = dm("three", user="U3")
        assert post_signed(client, third).status_code == 503  # full: Slack will retry
        assert client.portal is not None
        client.portal.call(gate.set)
        slack_api.wait_for("chat.postMessage", 2)
        assert post_signed(client, third, retry_num=1).status_code == 200
        slack_api.wait_for("chat.postMessage", 3)
        assert [t.text for t in blocked.turns] == ["one", "two", "three"]


# --- escaping -------------------------------------------------------------------------


def test_pings_in_user_text_and_answers_never_reach_slack_unescaped(
    client: TestClient, conversation: FakeConversation, slack_api: MockSlackApi
) -> None:
    conversation.replies = [
        BotMessage("You said: <!channel> & <@U123> <https://evil.test|click>"),
        BotMessage("Pick one", buttons=(Button("<!here> *bold*", "/request_human"),)),
    ]
    post_signed(client, dm("&lt;!channel&gt; hi <!channel> <@U123> <https://x.test|x>"))
    [turn] = wait_turns(conversation, 1)
    assert turn.text == "<!channel> hi @channel @U123 x"
    calls = slack_api.wait_for("chat.postMessage", 2)
    # mrkdwn (sections, notification text) is escaped; button titles are plain_text,
    # which Slack never parses for mentions
    [button] = calls[1].body["blocks"][1]["elements"]
    assert button["text"] == {"type": "plain_text", "text": "<!here> *bold*", "emoji": True}
    del calls[1].body["blocks"][1]
    raw = json.dumps([c.body for c in calls])
    for ping in ("<!channel>", "<@U123>", "<!here>", "<https://"):
        assert ping not in raw
    assert section_texts(calls[0].body) == [
        "You said: &lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil.test|click&gt;"
    ]
    assert calls[0].body["text"].startswith("You said: &lt;!channel&gt;")
    assert all(b["text"]["verbatim"] for b in calls[0].body["blocks"])


# --- buttons --------------------------------------------------------------------------


def test_a_button_press_sends_its_payload_back_and_retires_the_buttons(
    client: TestClient, conversation: FakeConversation, slack_api: MockSlackApi
) -> None:
    payload = '/choose_faq{"faq_id":"card-payments-failing"}'
    conversation.replies = [
        BotMessage("Did you mean:", buttons=(Button("Card payments", payload),))
    ]
    post_signed(client, dm("card"))
    [offer] = slack_api.wait_for("chat.postMessage")
    actions = offer.body["blocks"][-1]
    assert actions["type"] == "actions"
    [element] = actions["elements"]
    assert element["value"] == payload and element["action_id"] == "faro_choice:0"
    conversation.replies = [BotMessage("Card payments are failing.")]
    message = {"ts": "1700000000.000100", "blocks": offer.body["blocks"], "text": "Did you mean:"}
    body = button_press(
        value=payload, title="Card payments", message=message,
        response_url=slack_api.response_url("b"),
    )  # fmt: skip
    assert post_signed(client, body, form=True).status_code == 200
    turns = wait_turns(conversation, 2)
    assert turns[1] == Turn(
        conversation_id=f"slack:{TEAM_ID}:U0CUSTOMER",
        channel="slack",
        text="Card payments",
        payload=payload,
    )
    [update] = slack_api.wait_for("chat.update")
    assert update.body["ts"] == "1700000000.000100"
    assert [b["type"] for b in update.body["blocks"]] == ["section", "context"]
    replies = slack_api.wait_for("chat.postMessage", 2)
    assert section_texts(replies[1].body) == ["Card payments are failing."]
    assert update.at <= replies[1].at
