"""New handoffs told to the Slack staff channel, against the Slack fake: once per
handoff, across replicas and failures, with nothing of the customer but the
channel, the language and the first words of the question."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handoff.service import HandoffService
from bot.handoff.slack_notify import HandoffSlackNotifier, first_words
from tests.helpers.slack_fake import BOT_TOKEN, Script, running_slack_api

LONG = (
    "my card <b>payments</b> keep failing at every shop since this morning and I need to pay rent"
)


def test_first_words() -> None:
    assert first_words("  card   declined ") == "card declined"
    assert first_words(LONG) == " ".join(LONG.split()[:12]) + "…"
    assert len(first_words("x" * 500)) == 101


async def test_one_message_per_new_handoff_once_across_replicas_and_failures(
    service: HandoffService,
) -> None:
    with running_slack_api() as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.url)
        url = "https://help.example.com/admin/inbox"
        one = HandoffSlackNotifier(service.store, client, channel="C0STAFF", inbox_url=url)
        two = HandoffSlackNotifier(service.store, client, channel="C0STAFF", inbox_url=url)
        assert await one.send_pending() == 0  # turned on: starts after what exists
        service.request("telegram:987654", "telegram", "es", [("user", LONG, datetime.now(UTC))])
        service.request("web:secret-session", "web", "en")
        hid = service.current("web:secret-session").id  # type: ignore[union-attr]
        await service.claim(hid, "Marta")  # not a new handoff: not told

        assert await two.send_pending() == 0  # the other replica holds the lease
        assert await one.send_pending() == 2
        assert await one.send_pending() == 0  # told once
        first, second = [c.body for c in slack.of("chat.postMessage")]
        assert first["channel"] == "C0STAFF"
        assert "telegram, es" in first["text"] and url in first["text"]
        assert "my card &lt;b&gt;payments&lt;/b&gt; keep failing" in first["text"]
        assert "rent" not in first["text"] and "987654" not in first["text"]
        assert "web, en" in second["text"] and "secret-session" not in second["text"]

        # Slack refuses: nothing is skipped, the next round posts it
        slack.fail("chat.postMessage", Script(status=200, error="channel_not_found"))
        service.request("slack:U0CUSTOMER", "slack", "en", [("user", "hi", datetime.now(UTC))])
        with pytest.raises(SlackApiError):
            await one.send_pending()
        assert await one.send_pending() == 1
        # refused once, posted once
        assert len([c for c in slack.of("chat.postMessage") if "> hi" in c.body["text"]]) == 2
        assert await one.send_pending() == 0
