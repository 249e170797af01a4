"""bot.dialogue: turn cleaning, and RasaConversation over a faked Rasa with the real templates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bot.core.messages import BotMessage, Button, Phase, StatusCard, Turn
from bot.db import Database
from bot.dialogue import RasaConversation, clean_text
from bot.handoff.service import HandoffService
from bot.handoff.store import HandoffStore
from bot.templates import TemplateStore
from tests.helpers.rasa_fake import HANG_UP, FakeRasa, RasaRequest, closed_port_url

CHOOSE = '/choose_faq{"faq_id":"card-payments-failing"}'


# --- clean_text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  hello   world  ", "hello world"),
        ("line one\nline two\tend", "line one line two end"),
        ("windows\r\nline", "windows line"),
        ("old mac\rline", "old mac line"),
        ("nul\x00byte", "nulbyte"),
        ("bell\x07 and esc\x1b[31m", "bell and esc[31m"),
        ("zero\u200bwidth", "zerowidth"),
        ("bidi\u202eoverride", "bidioverride"),
        ("bom\ufeff", "bom"),
        ("no\u00a0break\u2028sep", "no break sep"),
        ("¿Cuándo vuelve? 👍", "¿Cuándo vuelve? 👍"),
        ("", ""),
        ("\x00\x01\x02", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "/restart",
        "//restart",
        "  /restart",
        "\u200b/restart",
        "\x00/restart",
        "/ /restart",
        "/\t/restart",
        "/\n /restart",
        '/choose_faq{"faq_id":"x"}',
    ],
)
def test_clean_text_never_starts_with_a_slash(raw: str) -> None:
    # Rasa parses any message starting with '/' as an intent (after stripping it).
    cleaned = clean_text(raw)
    assert not cleaned.strip().startswith("/"), repr(cleaned)
    assert cleaned.strip() == cleaned


def test_clean_text_keeps_slashes_inside() -> None:
    assert clean_text("/is the app down/broken?") == "is the app down/broken?"


# --- RasaConversation -----------------------------------------------------------------


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    async with FakeRasa(replies=[{"text": "From Rasa"}]) as server:
        yield server


@pytest.fixture
async def conversation(rasa: FakeRasa, templates: TemplateStore) -> AsyncIterator[RasaConversation]:
    client = rasa.client()
    yield RasaConversation(rasa=client, templates=templates, max_chars=1000)
    await client.aclose()


def turn(text: str = "", *, cid: str = "web:s1", lang: str | None = None,
         payload: str | None = None) -> Turn:  # fmt: skip
    return Turn(conversation_id=cid, channel="web", text=text, lang=lang, payload=payload)


async def test_a_turn_reaches_rasa_with_its_metadata(
    conversation: RasaConversation, rasa: FakeRasa
) -> None:
    replies = await conversation.handle(turn("Is the app down?", cid="web:abc"))
    assert replies == [BotMessage("From Rasa")]
    assert rasa.bodies == [
        {"sender": "web:abc", "message": "Is the app down?",
         "metadata": {"lang": "en", "channel": "web"}},
    ]  # fmt: skip


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x1b\u200b", "/", " // "])
async def test_empty_text_gets_the_template_without_calling_rasa(
    conversation: RasaConversation, rasa: FakeRasa, templates: TemplateStore, text: str
) -> None:
    replies = await conversation.handle(turn(text))
    assert replies == [BotMessage(templates.render("empty_message", "en"))]
    assert rasa.requests == []


async def test_empty_text_in_spanish(
    conversation: RasaConversation, rasa: FakeRasa, templates: TemplateStore
) -> None:
    replies = await conversation.handle(turn("", lang="es"))
    assert replies == [BotMessage(templates.render("empty_message", "es"))]
    assert rasa.requests == []


async def test_too_long_text_gets_the_template_without_calling_rasa(
    conversation: RasaConversation, rasa: FakeRasa, templates: TemplateStore
) -> None:
    replies = await conversation.handle(turn("help " * 2048))  # 10 kB
    assert replies == [BotMessage(templates.render("message_too_long", "en", limit=1000))]
    assert "1000" in replies[0].text
    assert rasa.requests == []


async def test_limit_is_counted_after_cleaning(rasa: FakeRasa, templates: TemplateStore) -> None:
    client = rasa.client()
    conversation = RasaConversation(rasa=client, templates=templates, max_chars=10)
    await conversation.handle(turn("  ab  \x00\x00\x00\x00\x00  cd   efgh  "))  # 10 after cleaning
    assert rasa.bodies[0]["message"] == "ab cd efgh"
    replies = await conversation.handle(turn("ab cd efghi"))  # 11
    await client.aclose()
    assert "10" in replies[0].text
    assert len(rasa.requests) == 1


async def test_binary_and_control_characters_are_cleaned_before_rasa(
    conversation: RasaConversation, rasa: FakeRasa
) -> None:
    raw = "card\x00 \x1b[2J not\u200b working\r\n\x7f"
    await conversation.handle(turn(raw))
    assert rasa.bodies[0]["message"] == "card [2J not working"


@pytest.mark.parametrize("typed", ["/restart", "  /restart", "//restart", "/ /restart"])
async def test_typed_intent_reaches_rasa_as_text(
    conversation: RasaConversation, rasa: FakeRasa, typed: str
) -> None:
    await conversation.handle(turn(typed))
    assert rasa.bodies[0]["message"] == "restart"


@pytest.mark.parametrize(
    "payload",
    [
        CHOOSE,
        '/choose_faq{"faq_id": "atm-withdrawals"}',
        '/choose_faq{"faq_id":"a"}',
        "/request_human",
        "/ask_status",
        "/ask_eta",
        "/subscribe",
        "/unsubscribe",
    ],
)
async def test_button_payloads_the_bot_issues_pass_unchanged(
    conversation: RasaConversation, rasa: FakeRasa, payload: str
) -> None:
    await conversation.handle(turn("Talk to a person", payload=payload))
    assert rasa.bodies[0]["message"] == payload


async def test_button_payload_passes_even_with_empty_text(
    conversation: RasaConversation, rasa: FakeRasa
) -> None:
    await conversation.handle(turn("", payload="/request_human"))
    assert rasa.bodies[0]["message"] == "/request_human"


@pytest.mark.parametrize(
    "forged",
    [
        "/restart",
        "/session_start",
        "/greet",
        "request_human",
        "/request_human ",
        "/request_human\n",
        "/request_human/restart",
        '/choose_faq{"faq_id":"x"}{evil}',
        '/choose_faq{"faq_id":"x","other":"y"}',
        '/choose_faq{"faq_id":"X"}',
        '/choose_faq{"faq_id":"../../etc"}',
        '/choose_faq{"faq_id":"' + "a" * 200 + '"}',
        '/choose_faq{"faq_id":"x"}\n/restart',
    ],
)
async def test_forged_payload_is_not_passed_as_payload(
    conversation: RasaConversation, rasa: FakeRasa, forged: str
) -> None:
    await conversation.handle(turn("my card", payload=forged))
    assert rasa.bodies[0]["message"] == "my card"


async def test_forged_payload_without_text_is_an_empty_message(
    conversation: RasaConversation, rasa: FakeRasa, templates: TemplateStore
) -> None:
    replies = await conversation.handle(turn("", payload="/restart"))
    assert replies == [BotMessage(templates.render("empty_message", "en"))]
    assert rasa.requests == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("es", "es"), ("es-ES", "es"), ("ES-mx", "es"), ("en-GB", "en"), ("en", "en"),
     ("fr", "en"), ("pt-BR", "en")],
)  # fmt: skip
async def test_channel_language_wins_over_detection(
    conversation: RasaConversation, rasa: FakeRasa, lang: str, expected: str
) -> None:
    # The text is clearly the other language: the channel's knowledge still wins.
    text = "my card is not working" if expected == "es" else "mi tarjeta no funciona"
    await conversation.handle(turn(text, lang=lang))
    assert rasa.bodies[0]["metadata"]["lang"] == expected


async def test_unsupported_channel_language_uses_the_configured_default(
    rasa: FakeRasa, templates: TemplateStore
) -> None:
    client = rasa.client()
    conversation = RasaConversation(rasa=client, templates=templates, default_lang="es")
    await conversation.handle(turn("hello", lang="de-DE"))
    await client.aclose()
    assert rasa.bodies[0]["metadata"]["lang"] == "es"


async def test_language_is_detected_when_the_channel_does_not_know(
    conversation: RasaConversation, rasa: FakeRasa
) -> None:
    await conversation.handle(turn("¿Cuándo vuelve el servicio?", cid="web:a"))
    await conversation.handle(turn("When will the service be back?", cid="web:b"))
    assert [b["metadata"]["lang"] for b in rasa.bodies] == ["es", "en"]


async def test_detected_language_sticks_for_ambiguous_follow_ups(
    conversation: RasaConversation, rasa: FakeRasa
) -> None:
    for text in ["Hola, mi tarjeta no funciona", "ok", "12345", "👍"]:
        await conversation.handle(turn(text, cid="web:es"))
    await conversation.handle(turn("ok", cid="web:other"))
    langs = [b["metadata"]["lang"] for b in rasa.bodies]
    assert langs == ["es", "es", "es", "es", "en"]


async def test_clear_evidence_switches_the_sticky_language(
    conversation: RasaConversation, rasa: FakeRasa
) -> None:
    for text in ["mi tarjeta no funciona", "ok", "sorry, can you answer in English?", "ok"]:
        await conversation.handle(turn(text, cid="web:x"))
    assert [b["metadata"]["lang"] for b in rasa.bodies] == ["es", "es", "en", "en"]


async def test_channel_language_sticks_for_later_turns_without_one(
    conversation: RasaConversation, rasa: FakeRasa
) -> None:
    await conversation.handle(turn("hello", cid="tg:1", lang="es"))
    await conversation.handle(turn("ok", cid="tg:1"))
    assert [b["metadata"]["lang"] for b in rasa.bodies] == ["es", "es"]


async def test_language_memory_is_bounded(
    conversation: RasaConversation, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.dialogue

    monkeypatch.setattr(bot.dialogue, "_LANG_MEMORY", 3)
    await conversation.handle(turn("mi tarjeta no funciona", cid="web:first"))
    for i in range(3):
        await conversation.handle(turn("hello there", cid=f"web:{i}"))
    await conversation.handle(turn("ok", cid="web:first"))  # forgotten: back to the default
    assert rasa.bodies[-1]["metadata"]["lang"] == "en"


async def test_recent_conversations_are_kept_in_language_memory(
    conversation: RasaConversation, rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.dialogue

    monkeypatch.setattr(bot.dialogue, "_LANG_MEMORY", 3)
    await conversation.handle(turn("mi tarjeta no funciona", cid="web:first"))
    for i in range(3):
        await conversation.handle(turn("hello there", cid=f"web:{i}"))
        await conversation.handle(turn("ok", cid="web:first"))  # touched: stays recent
    assert [b["metadata"]["lang"] for b in rasa.bodies if b["sender"] == "web:first"] == ["es"] * 4


async def test_button_press_keeps_the_conversation_language(
    conversation: RasaConversation, rasa: FakeRasa
) -> None:
    await conversation.handle(turn("¿Está caído el banco?", cid="web:b"))
    await conversation.handle(turn("", cid="web:b", payload="/request_human"))
    assert [b["metadata"]["lang"] for b in rasa.bodies] == ["es", "es"]


async def _slow(request: RasaRequest) -> Response:
    await asyncio.sleep(1.5)
    return JSONResponse([])


@pytest.mark.parametrize("failure", ["refused", "timeout", "hang-up"])
async def test_rasa_down_gives_the_unavailable_template(
    templates: TemplateStore, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    respond = {"timeout": _slow, "hang-up": lambda r: HANG_UP}.get(failure)
    async with FakeRasa(respond=respond) as rasa:
        urls = (closed_port_url(),) if failure == "refused" else rasa.urls
        client = rasa.client(urls, timeout_s=0.5)
        conversation = RasaConversation(rasa=client, templates=templates)
        replies = await conversation.handle(turn("¿Está caído?"))
        await client.aclose()
    assert replies == [BotMessage(templates.render("dialogue_unavailable", "es"))]
    assert any(r.levelname == "ERROR" for r in caplog.records)


@pytest.mark.parametrize(
    "response",
    [PlainTextResponse("boom", status_code=500), PlainTextResponse("not json"),
     JSONResponse({"text": "not a list"})],
)  # fmt: skip
async def test_rasa_errors_give_the_unavailable_template(
    templates: TemplateStore, response: Response
) -> None:
    async with FakeRasa(respond=lambda r: response) as rasa:
        client = rasa.client()
        conversation = RasaConversation(rasa=client, templates=templates)
        replies = await conversation.handle(turn("is it down?"))
        await client.aclose()
    assert replies == [BotMessage(templates.render("dialogue_unavailable", "en"))]


async def test_reply_mapping(templates: TemplateStore) -> None:
    rasa = FakeRasa(
        replies=[
            {"text": "Plain"},
            {"text": "Pick one", "buttons": [
                {"title": "Card payments", "payload": CHOOSE},
                {"title": "Talk to a person", "payload": "/request_human"},
            ]},
            {"text": "As of 10:00 UTC, cards fail."},
            {"custom": {"status": {"phase": "identified", "incident_id": "inc-1"}}},
            {"custom": {"type": "status", "incident": "inc-1"}},
            {"text": "With custom", "custom": {"k": 1}},
            {"image": "https://example.com/x.png"},
            {"text": ""},
            {"text": None, "buttons": None, "custom": None},
            {"buttons": ["not a button", {"title": "Only title"}]},
            {"custom": "not a mapping"},
            {"text": 42},
        ]
    )  # fmt: skip
    async with rasa:
        client = rasa.client()
        replies = await RasaConversation(rasa=client, templates=templates).handle(turn("hi"))
        await client.aclose()
    assert replies == [
        BotMessage("Plain"),
        BotMessage("Pick one", buttons=(
            Button("Card payments", CHOOSE), Button("Talk to a person", "/request_human"),
        )),
        BotMessage("As of 10:00 UTC, cards fail.",
                   status=StatusCard(Phase.IDENTIFIED, incident_id="inc-1")),
        BotMessage("With custom"),
        BotMessage("", buttons=(Button("Only title", ""),)),
        BotMessage("42"),
    ]  # fmt: skip


async def test_an_unreadable_handoff_state_gives_the_unavailable_template_not_an_error(
    conversation: RasaConversation,
    rasa: FakeRasa,
    templates: TemplateStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The app database is down: whether a person has this conversation is unknown, so
    # the bot must neither fail the turn nor answer over an agent.
    database = Database.open("sqlite://")
    with database.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE handoffs"))
    guarded = RasaConversation(
        rasa=rasa.client(),
        templates=templates,
        handoffs=HandoffService(HandoffStore(database.engine), templates),
    )
    replies = await guarded.handle(turn("is the app down?", cid="web:secret-conversation"))
    assert replies == [BotMessage(templates.render("dialogue_unavailable", "en"))]
    assert rasa.bodies == []  # Rasa was not asked
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert logged and all("secret-conversation" not in m for m in logged)
