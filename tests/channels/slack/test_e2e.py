"""End to end: signed Slack events into the app, a real Rasa, replies at the mock Slack API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.channels.slack.markup import escape
from bot.stack import ROOT, Stack, running_stack
from tests.helpers.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    MockSlackApi,
    dm,
    mention,
    running_slack_api,
    signed_headers,
    slash_command,
)

pytestmark = pytest.mark.e2e

FAQ = {e["id"]: e for e in yaml.safe_load((ROOT / "data/faq/bank.yml").read_text())["faqs"]}


def answer(faq_id: str, lang: str) -> str:
    """The FAQ answer as the bot sends it to Slack (escaped mrkdwn)."""
    return escape(str(FAQ[faq_id]["answer"][lang]))


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, MockSlackApi]]:
    """The mock Slack API, and Rasa + the app with Slack pointed at it."""
    data_dir: Path = tmp_path_factory.mktemp("faro-slack-e2e")
    with running_slack_api() as api:
        extra = {
            "FARO_SLACK_BOT_TOKEN": BOT_TOKEN,
            "FARO_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "FARO_SLACK_API_URL": api.url,
            "FARO_SLACK_STAFF_USERS": "U0STAFF",  # /faro is refused to everyone by default
        }
        with running_stack(data_dir, extra_env=extra) as stack:
            yield stack, api


def post(stack: Stack, body: bytes, *, form: bool = False, **options: Any) -> httpx.Response:
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    headers = signed_headers(body, content_type=content_type, **options)
    return stack.client.post(stack.app_url + "/slack/events", content=body, headers=headers)


def replies_to(api: MockSlackApi, channel: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        calls = [c.body for c in api.of("chat.postMessage") if c.body.get("channel") == channel]
        if len(calls) >= count:
            return calls
        time.sleep(0.1)
    raise AssertionError(f"no reply in {channel}: {api.of('chat.postMessage')}")


def text_of(body: dict[str, Any]) -> str:
    return " ".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")


def test_a_slack_conversation_through_rasa(slack: tuple[Stack, MockSlackApi]) -> None:
    stack, api = slack
    # a DM in English, retried by Slack once: one answer, from the FAQ
    body = dm("why can't I pay with my card?", user="U0ANA", channel="D0ANA")
    started = time.monotonic()
    assert post(stack, body).status_code == 200
    assert time.monotonic() - started < 3
    assert post(stack, body, retry_num=1).status_code == 200
    [reply] = replies_to(api, "D0ANA", 1)
    assert text_of(reply) == answer("card-payments-failing", "en")
    # a mention in Spanish, answered in its thread, in Spanish
    body = mention("¿por qué me rechazan la tarjeta?", user="U0LUIS", channel="C0GENERAL")
    assert post(stack, body).status_code == 200
    [reply] = replies_to(api, "C0GENERAL", 1)
    assert text_of(reply) == answer("card-payments-failing", "es")
    assert reply["thread_ts"] == json.loads(body)["event"]["ts"]
    time.sleep(1.0)
    assert len(replies_to(api, "D0ANA", 1)) == 1  # the retry was not answered
    # a forged request changes nothing
    forged = dm("hello", channel="D0EVE")
    assert post(stack, forged, secret="guessed").status_code == 401
    assert not [c for c in api.of("chat.postMessage") if c.body.get("channel") == "D0EVE"]


def test_staff_ask_through_the_live_index(slack: tuple[Stack, MockSlackApi]) -> None:
    stack, api = slack
    body = slash_command("ask why can't I pay with my card?", response_url=api.response_url())
    assert post(stack, body, form=True).status_code == 200
    [response] = api.wait_for("response_url", timeout_s=30)
    text = "\n".join(b["text"]["text"] for b in response.body["blocks"])
    assert "*Decision:* answer" in text and "`card-payments-failing`" in text
    assert answer("card-payments-failing", "en") in text


def test_a_status_question_gets_the_live_incident(slack: tuple[Stack, MockSlackApi]) -> None:
    stack, api = slack
    feed = json.loads((ROOT / "data/status/sample.json").read_text())
    incident = next(i for i in feed["incidents"] if i["status"] != "resolved")
    assert post(stack, dm("is the app down?", user="U0STAT", channel="D0STAT")).status_code == 200
    time.sleep(2)  # every message of the turn, and nothing empty (status data rides along)
    replies = replies_to(api, "D0STAT", 1)
    text = " ".join(text_of(r) for r in replies)
    assert escape(incident["name"]) in text and "as of" in text.lower()
    assert all(r["blocks"] and r["text"] for r in replies)
