"""Telegram settings and the channel factory: off without a token (said once), on with both."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.channels.base import ChannelContext
from bot.channels.telegram.webhook import WEBHOOK_PATH
from bot.channels.telegram.wiring import TELEGRAM, telegram_channel
from bot.channels.web_history import WebHistory
from bot.channels.web_push import PushHub
from bot.db import Database
from bot.settings import Settings, SettingsError
from bot.store import AppStore
from bot.wiring import CHANNELS
from tests.channels.telegram.conftest import SECRET, ScriptedConversation
from tests.helpers.telegram_fake import TOKEN


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"FARO_PROJECT_DIR": str(tmp_path), **env})


def context(s: Settings) -> ChannelContext:
    # the channel needs only the app database's engine of the app's services
    store = AppStore(Database.open(s.database.url).engine)
    services: Any = SimpleNamespace(store=store)
    hub = PushHub(WebHistory(store.engine))
    return ChannelContext(
        settings=s, conversation=ScriptedConversation(), services=services, web_push=hub
    )


def test_the_wiring_registers_the_telegram_channel() -> None:
    assert TELEGRAM in CHANNELS and TELEGRAM.build is telegram_channel
    assert TELEGRAM.render("<b>&</b>") == ("&lt;b&gt;&amp;&lt;/b&gt;",)


def test_without_a_token_telegram_is_off_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.telegram")
    assert telegram_channel(context(settings(tmp_path))) is None
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["Telegram is off: FARO_TELEGRAM_TOKEN is not set"]


def test_without_a_secret_the_webhook_is_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.telegram")
    parts = telegram_channel(context(settings(tmp_path, FARO_TELEGRAM_TOKEN=TOKEN)))
    # no webhook route, but incident updates are still sent to subscribers
    assert parts is not None and parts.routes == [] and parts.deliverer is not None
    assert "FARO_TELEGRAM_SECRET is not set" in caplog.text


def test_with_token_and_secret_the_webhook_route_and_worker_are_added(tmp_path: Path) -> None:
    s = settings(tmp_path, FARO_TELEGRAM_TOKEN=TOKEN, FARO_TELEGRAM_SECRET=SECRET)
    parts = telegram_channel(context(s))
    assert parts is not None
    assert [getattr(r, "path", None) for r in parts.routes] == [WEBHOOK_PATH]
    assert len(parts.background) == 1


def test_settings_read_telegram_variables_and_hide_secrets(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        FARO_TELEGRAM_TOKEN=TOKEN,
        FARO_TELEGRAM_SECRET=SECRET,
        FARO_TELEGRAM_API_URL="http://127.0.0.1:8081/",
    )
    assert (s.telegram.token, s.telegram.secret) == (TOKEN, SECRET)
    assert s.telegram.api_url == "http://127.0.0.1:8081"
    assert TOKEN not in repr(s) and SECRET not in repr(s)
    assert settings(tmp_path).telegram.api_url == "https://api.telegram.org"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FARO_TELEGRAM_SECRET", "has spaces"),
        ("FARO_TELEGRAM_SECRET", "x" * 257),
        ("FARO_TELEGRAM_SECRET", "ñ"),
        ("FARO_TELEGRAM_API_URL", "api.telegram.org"),
    ],
)
def test_bad_telegram_settings_fail_naming_the_variable(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=name):
        settings(tmp_path, **{name: value})
