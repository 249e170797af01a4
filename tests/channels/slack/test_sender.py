"""bot.channels.slack.sender against the loopback Slack API: pacing, 429, retries, errors."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.slack.errors import SlackSendError
from bot.channels.slack.sender import SlackSender, make_client
from bot.core.messages import BotMessage, Phase, StatusCard
from bot.stack import free_port
from tests.helpers.slack_fake import BOT_TOKEN, MockSlackApi, Script


def sender(api: MockSlackApi, *, interval_s: float = 0.0, **client_options: int) -> SlackSender:
    return SlackSender(
        make_client(token=BOT_TOKEN, base_url=api.url, **client_options), interval_s=interval_s
    )


async def test_a_429_waits_for_retry_after_then_delivers_once(slack_api: MockSlackApi) -> None:
    slack_api.fail("chat.postMessage", Script(status=429, retry_after=2))
    [ts] = await sender(slack_api).send("D1", [BotMessage("hello")])
    first, second = slack_api.of("chat.postMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 2.0  # measured from the mock's log
    assert ts and second.body["channel"] == "D1"


async def test_repeated_429s_each_wait(slack_api: MockSlackApi) -> None:
    slack_api.fail("chat.postMessage", Script(status=429, retry_after=1, times=2))
    await sender(slack_api).send("D1", [BotMessage("hello")])
    calls = slack_api.of("chat.postMessage")
    assert [c.status for c in calls] == [429, 429, 200]
    assert all(b.at - a.at >= 1.0 for a, b in zip(calls, calls[1:], strict=False))


async def test_rate_limited_past_the_retries_is_an_error(slack_api: MockSlackApi) -> None:
    slack_api.fail("chat.postMessage", Script(status=429, retry_after=1, times=5))
    with pytest.raises(SlackSendError, match="chat.postMessage failed: ratelimited"):
        await sender(slack_api, rate_limit_retries=1).send("D1", [BotMessage("hello")])
    assert len(slack_api.of("chat.postMessage")) == 2


async def test_a_503_is_retried(slack_api: MockSlackApi) -> None:
    slack_api.fail("chat.postMessage", Script(status=503, retry_after=None))
    await sender(slack_api).send("D1", [BotMessage("hello")])
    assert [c.status for c in slack_api.of("chat.postMessage")] == [503, 200]


async def test_a_slack_error_names_the_method_and_error_not_the_token(
    slack_api: MockSlackApi,
) -> None:
    slack_api.fail("chat.postMessage", Script(status=200, error="channel_not_found"))
    with pytest.raises(SlackSendError) as caught:
        await sender(slack_api).send("D404", [BotMessage("hello")])
    assert str(caught.value) == "chat.postMessage failed: channel_not_found"
    assert len(slack_api.of("chat.postMessage")) == 1  # not retried


async def test_a_wrong_token_is_an_error(slack_api: MockSlackApi) -> None:
    bad = SlackSender(make_client(token="xoxb-wrong", base_url=slack_api.url))
    with pytest.raises(SlackSendError, match="invalid_auth"):
        await bad.send("D1", [BotMessage("hello")])


async def test_an_unreachable_api_is_an_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/api/"
    unreachable = SlackSender(make_client(token=BOT_TOKEN, base_url=url, connection_retries=1))
    with pytest.raises(SlackSendError, match="chat.postMessage failed: Client"):
        await unreachable.send("D1", [BotMessage("hello")])


async def test_one_message_per_interval_per_channel(slack_api: MockSlackApi) -> None:
    paced = sender(slack_api, interval_s=0.5)
    await asyncio.gather(
        paced.send("D1", [BotMessage("1"), BotMessage("2"), BotMessage("3")]),
        paced.send("D2", [BotMessage("other channel")]),
    )
    calls = slack_api.of("chat.postMessage")
    d1 = [c for c in calls if c.body["channel"] == "D1"]
    [d2] = [c for c in calls if c.body["channel"] == "D2"]
    assert [c.body["text"] for c in d1] == ["1", "2", "3"]
    assert all(b.at - a.at >= 0.45 for a, b in zip(d1, d1[1:], strict=False))
    assert d2.at < d1[1].at  # another channel does not wait behind D1


async def test_update_and_thread_replies(slack_api: MockSlackApi) -> None:
    s = sender(slack_api)
    [ts] = await s.send("C1", [BotMessage("in a thread")], thread_ts="123.456")
    await s.update("C1", ts, blocks=[], text="changed")
    [post] = slack_api.of("chat.postMessage")
    [update] = slack_api.of("chat.update")
    assert post.body["thread_ts"] == "123.456"
    assert post.body["unfurl_links"] is False
    assert update.body == {"channel": "C1", "ts": ts, "blocks": [], "text": "changed"}


async def test_messages_with_nothing_to_show_are_skipped(slack_api: MockSlackApi) -> None:
    card_only = BotMessage("", status=StatusCard(Phase.INVESTIGATING))
    sent = await sender(slack_api).send("D1", [card_only, BotMessage("shown"), BotMessage("  ")])
    assert len(sent) == 1
    assert [c.body["text"] for c in slack_api.of("chat.postMessage")] == ["shown"]
