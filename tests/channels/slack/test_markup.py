"""bot.channels.slack.markup: reading Slack markup, escaping, Block Kit limits."""

from __future__ import annotations

import pytest

from bot.channels.slack.markup import (
    BUTTON_TEXT_MAX,
    BUTTON_VALUE_MAX,
    SECTION_TEXT_MAX,
    choice_made,
    escape,
    incoming_text,
    render,
    split_escaped,
)
from bot.core.messages import BotMessage, Button


def test_escape() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert escape("&amp;") == "&amp;amp;"  # shown as typed


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("<@U0FAROBOT> is the app down?", "is the app down?"),
        ("hi <@U777> and <@U888|maria>", "hi @U777 and @maria"),
        ("<#C123|outages> now", "#outages now"),
        ("<!channel> <!here> <!subteam^S1|@support>", "@channel @here @support"),
        ("see <https://x.test/a?b=1&amp;c=2|the page> or <https://y.test>", "see the page or https://y.test"),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
        ("&amp;lt;", "&lt;"),
        ("  spaced \n out  ", "spaced out"),
    ],
)  # fmt: skip
def test_incoming_text(slack: str, plain: str) -> None:
    assert incoming_text(slack, bot_user_id="U0FAROBOT") == plain


def test_long_text_is_split_into_sections_within_the_limit_and_kept_whole() -> None:
    text = " ".join(f"word{i} & <x>" for i in range(2000))
    blocks, fallback = render(BotMessage(text))
    assert len(blocks) > 1
    bodies = [b["text"]["text"] for b in blocks]
    assert all(len(t) <= SECTION_TEXT_MAX for t in bodies)
    assert " ".join(bodies) == escape(text)
    assert len(fallback) <= 3000


def test_splitting_never_cuts_an_entity() -> None:
    escaped = escape("&" * 5000)
    pieces = split_escaped(escaped, 3000)
    assert "".join(pieces) == escaped
    assert all(p.startswith("&amp;") and p.endswith("&amp;") for p in pieces)


def test_buttons_respect_slack_limits() -> None:
    long_title = "A very long choice title " * 10
    message = BotMessage(
        "Pick one",
        buttons=(
            Button(long_title, "/request_human"),
            Button("Too long a payload", "/x" + "y" * BUTTON_VALUE_MAX),
            Button("", "/ask_status"),
        ),
    )
    blocks, _ = render(message)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    titles = [e["text"]["text"] for e in actions["elements"]]
    assert len(titles[0]) == BUTTON_TEXT_MAX and titles[0].endswith("…")
    assert titles[1] == "/ask_status"  # an empty title shows the payload
    assert [e["value"] for e in actions["elements"]] == ["/request_human", "/ask_status"]
    assert [e["action_id"] for e in actions["elements"]] == ["faro_choice:0", "faro_choice:2"]


def test_a_message_with_only_buttons_has_a_notification_text() -> None:
    blocks, fallback = render(BotMessage("", buttons=(Button("<Yes>", "/a"), Button("No", "/b"))))
    assert [b["type"] for b in blocks] == ["actions"]
    assert fallback == "&lt;Yes&gt; / No"


def test_choice_made_replaces_the_buttons() -> None:
    blocks, _ = render(BotMessage("Pick", buttons=(Button("Cards", "/a"),)))
    done = choice_made(blocks, "<!here> Cards")
    assert [b["type"] for b in done] == ["section", "context"]
    assert done[1]["elements"][0]["text"] == "› &lt;!here&gt; Cards"
