"""End to end: Telegram webhook updates through the app and a real Rasa server, to the fake API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.channels.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from bot.stack import ROOT, Stack, running_stack
from bot.templates import TemplateStore
from tests.channels.telegram.conftest import SECRET
from tests.helpers.telegram_builders import buttons, callback_update, message_update
from tests.helpers.telegram_fake import TOKEN, FakeBotApi

pytestmark = pytest.mark.e2e

FAQ = {e["id"]: e for e in yaml.safe_load((ROOT / "data/faq/bank.yml").read_text())["faqs"]}
TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])


def answer(faq_id: str, lang: str) -> str:
    return str(FAQ[faq_id]["answer"][lang])


@pytest.fixture(scope="module")
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi().running() as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(api: FakeBotApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa and the app, with the app's Telegram API pointed at the fake."""
    data_dir: Path = tmp_path_factory.mktemp("faro-telegram-e2e")
    extra = {
        "FARO_TELEGRAM_TOKEN": TOKEN,
        "FARO_TELEGRAM_SECRET": SECRET,
        "FARO_TELEGRAM_API_URL": api.url,
    }
    with running_stack(data_dir, extra_env=extra) as running:
        yield running


def deliver(stack: Stack, update: dict[str, Any], *, secret: str = SECRET) -> httpx.Response:
    """POST an update to the app's webhook the way Telegram does."""
    return stack.client.post(
        stack.app_url + WEBHOOK_PATH, json=update, headers={SECRET_HEADER: secret}
    )


@pytest.mark.parametrize(
    ("chat", "question", "lang"),
    [
        (9001, "why can't I pay with my card?", "en"),
        (9002, "¿por qué me rechazan la tarjeta?", "es"),
    ],
)
def test_faq_question_on_telegram_gets_the_answer_in_the_users_language(
    stack: Stack, api: FakeBotApi, chat: int, question: str, lang: str
) -> None:
    response = deliver(stack, message_update(chat, chat, question, lang=lang))
    assert response.status_code == 200
    api.wait_for(lambda: len(api.shown(chat)) >= 1, timeout_s=30)
    assert api.shown(chat) == [answer("card-payments-failing", lang)]
    assert all(m["parse_mode"] == "HTML" for m in api.sent(chat))


def test_decline_button_round_trip_and_secret_check(stack: Stack, api: FakeBotApi) -> None:
    chat = 9003
    assert deliver(stack, message_update(1, chat, "hi"), secret="wrong").status_code == 403
    question = message_update(9100, chat, "what's the capital of France?", lang="en")
    assert deliver(stack, question).json() == {"status": "queued"}
    api.wait_for(lambda: len(api.shown(chat)) >= 1, timeout_s=30)
    assert api.shown(chat) == [TEMPLATES.render("faq_decline", "en")]
    [offer] = [m for (c, _), m in api.messages.items() if c == chat]
    [(label, data)] = buttons(offer)
    assert label == TEMPLATES.render("button_human", "en")

    deliver(stack, callback_update(9101, offer, data, lang="en"))
    api.wait_for(lambda: len(api.shown(chat)) >= 2, timeout_s=30)
    assert api.shown(chat)[1] == TEMPLATES.render("handoff_queued_offline", "en")
    assert [c.params["callback_query_id"] for c in api.calls_of("answerCallbackQuery")] == [
        "cq9101"
    ]
    api.wait_for(lambda: "reply_markup" not in api.messages[(chat, offer["message_id"])])
    # a redelivered update is not answered twice
    assert deliver(stack, question).json() == {"status": "duplicate"}
    assert len(api.shown(chat)) == 2


def test_the_app_log_never_shows_the_token_or_secret(stack: Stack, api: FakeBotApi) -> None:
    chat = 9004
    deliver(stack, message_update(9200, chat, "hello", lang="es"))
    api.wait_for(lambda: len(api.shown(chat)) >= 1, timeout_s=30)
    assert api.shown(chat) == [TEMPLATES.render("greet", "es")]
    log = (stack.data_dir / "app.log").read_text(errors="replace")
    assert TOKEN.split(":")[1] not in log and SECRET not in log
