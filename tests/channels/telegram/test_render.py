"""bot.channels.telegram.render and callbacks: HTML, 4096-unit parts, keyboards, 64-byte data."""

from __future__ import annotations

import html
import re

import pytest

from bot.channels.telegram import callbacks
from bot.channels.telegram.render import (
    MAX_TEXT,
    render_html,
    render_message,
    split_text,
    utf16_len,
)
from bot.core.messages import BotMessage, Button


def sentences(n: int, words: int = 12) -> str:
    return " ".join(f"Sentence {i} " + "word " * words + "ends here." for i in range(n))


def test_short_text_is_one_part() -> None:
    assert split_text("  Hello there.  ") == ["Hello there."]
    assert split_text("") == []


def test_long_reply_splits_on_sentence_ends_within_the_limit() -> None:
    text = sentences(120)  # ~9000 characters
    parts = split_text(text)
    assert len(parts) >= 3
    assert all(utf16_len(p) <= MAX_TEXT for p in parts)
    assert all(p.endswith("ends here.") for p in parts)  # cut after a sentence, never inside
    assert " ".join(parts) == text  # nothing lost, nothing reordered


def test_question_and_exclamation_marks_and_newlines_end_sentences() -> None:
    text = "Is it down? " * 10 + "Yes!\n" + "It is. " * 10
    parts = split_text(text, limit=40)
    assert all(len(p) <= 40 for p in parts)
    assert all(re.search(r"[.?!]$", p) for p in parts)


def test_without_sentence_ends_it_splits_at_spaces_and_only_then_inside_words() -> None:
    words = "word " * 2000
    parts = split_text(words)
    assert all(len(p) <= MAX_TEXT and p.endswith("word") for p in parts)
    solid = "x" * 10_000
    assert [len(p) for p in split_text(solid)] == [4096, 4096, 1808]


def test_limit_counts_utf16_units_like_telegram() -> None:
    emoji = "🚨" * 3000  # 2 UTF-16 units each
    parts = split_text(emoji)
    assert all(utf16_len(p) <= MAX_TEXT for p in parts)
    assert "".join(parts) == emoji


def test_html_is_escaped_so_user_visible_text_is_unchanged() -> None:
    text = '<script>alert(1)</script> AT&T <b>not bold</b> "quoted"'
    rendered = render_html(text)
    assert "<" not in rendered and "&T" not in rendered
    assert html.unescape(rendered) == text


def test_buttons_become_an_inline_keyboard_on_the_last_part() -> None:
    long_payload = '/choose_faq{"faq_id":"card-payments-failing-after-the-outage-of-today"}'
    assert len(long_payload.encode()) > 64
    message = BotMessage(
        sentences(80),
        buttons=(
            Button("Card payments", long_payload),
            Button("Talk to a person", "/request_human"),
        ),
    )
    rendered = render_message(message, encode=callbacks.callback_data)
    assert len(rendered) >= 2
    assert all(keyboard is None for _, keyboard in rendered[:-1])
    keyboard = rendered[-1][1]
    assert keyboard is not None
    data = [b.callback_data for row in keyboard.inline_keyboard for b in row]
    labels = [b.text for row in keyboard.inline_keyboard for b in row]
    assert labels == ["Card payments", "Talk to a person"]
    assert data[1] == "/request_human"  # short payloads travel as they are
    assert data[0] == callbacks.key_for(long_payload) and callbacks.is_key(str(data[0]))
    assert all(len(str(d).encode()) <= 64 for d in data)


def test_buttons_without_text_still_get_a_message() -> None:
    [(text, keyboard)] = render_message(
        BotMessage("", buttons=(Button("A", "/ask_status"),)), encode=callbacks.callback_data
    )
    assert text and keyboard is not None


@pytest.mark.parametrize(
    "payload",
    ["/request_human", '/choose_faq{"faq_id":"x"}', "#looks-like-a-key", "é" * 40, "/x" * 40],
)
def test_callback_data_always_fits_and_keys_are_stable(payload: str) -> None:
    data = callbacks.callback_data(payload)
    assert 1 <= len(data.encode()) <= 64
    assert data == callbacks.callback_data(payload)
    assert callbacks.is_key(data) == (not callbacks.fits(payload))
