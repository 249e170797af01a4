"""Turning Slack on and off: settings, factory, Socket Mode, the app route, no secrets in logs."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.app import create_app
from bot.channels.base import ChannelContext
from bot.channels.slack import slack_channel
from bot.channels.slack.transport import SocketModeRunner
from bot.channels.turns import TurnDispatcher
from bot.services import AppServices
from bot.settings import Settings, SettingsError
from bot.wiring import build_web_push
from tests.bot.helpers import PROJECT_DIR, FakeConversation
from tests.channels.slack.conftest import SlackClientFactory, with_slack
from tests.helpers.slack_fake import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    MockSlackApi,
    Script,
    dm,
    post_signed,
    slash_command,
)

SLACK_LOGGERS = ("bot.channels.slack", "slack_bolt", "slack_sdk", "aiohttp")


def env(tmp_path: Path, **slack: str) -> dict[str, str]:
    return {"FARO_PROJECT_DIR": str(PROJECT_DIR), "FARO_DATA_DIR": str(tmp_path), **slack}


def test_settings_read_slack_variables(tmp_path: Path) -> None:
    settings = Settings.from_env(
        env(
            tmp_path,
            FARO_SLACK_BOT_TOKEN=BOT_TOKEN,
            FARO_SLACK_SIGNING_SECRET=SIGNING_SECRET,
            FARO_SLACK_APP_TOKEN=APP_TOKEN,
            FARO_SLACK_API_URL="http://127.0.0.1:9/api",
            FARO_SLACK_STAFF_USERS=" U1, U2 ,",
        )
    )
    assert settings.slack.bot_token == BOT_TOKEN
    assert settings.slack.signing_secret == SIGNING_SECRET
    assert settings.slack.app_token == APP_TOKEN
    assert settings.slack.api_url == "http://127.0.0.1:9/api/"
    assert settings.slack.staff_users == ("U1", "U2")
    shown = repr(settings)
    assert BOT_TOKEN not in shown and SIGNING_SECRET not in shown and APP_TOKEN not in shown


def test_settings_default_to_slack_off(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path))
    assert settings.slack.bot_token is None and settings.slack.signing_secret is None
    assert settings.slack.api_url is None and settings.slack.staff_users == ()


def test_a_bad_api_url_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="FARO_SLACK_API_URL"):
        Settings.from_env(env(tmp_path, FARO_SLACK_API_URL="slack.com/api"))


def context(services: AppServices, **settings: object) -> ChannelContext:
    return ChannelContext(
        settings=with_slack(services.settings, **settings),
        conversation=FakeConversation(),
        services=services,
        web_push=build_web_push(services),
    )


def test_without_token_and_secret_slack_is_off_and_says_so_once(
    services: AppServices, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.slack")
    ctx = context(services, slack_bot_token=None, slack_signing_secret=None)
    assert slack_channel(ctx) is None
    [record] = [r for r in caplog.records if r.name.startswith("bot.channels.slack")]
    assert record.levelno == logging.INFO and "Slack is off" in record.getMessage()


@pytest.mark.parametrize(
    ("token", "secret", "missing"),
    [
        (BOT_TOKEN, None, "FARO_SLACK_SIGNING_SECRET"),
        (None, SIGNING_SECRET, "FARO_SLACK_BOT_TOKEN"),
    ],
)
def test_half_a_configuration_is_a_warning_naming_what_is_missing(
    services: AppServices,
    caplog: pytest.LogCaptureFixture,
    token: str | None,
    secret: str | None,
    missing: str,
) -> None:
    ctx = context(services, slack_bot_token=token, slack_signing_secret=secret)
    assert slack_channel(ctx) is None
    [record] = [r for r in caplog.records if r.name.startswith("bot.channels.slack")]
    assert record.levelno == logging.WARNING and missing in record.getMessage()
    assert BOT_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text


@pytest.mark.parametrize(("staff", "warned"), [((), True), (("U0STAFF",), False)])
def test_slack_on_without_staff_says_once_that_faro_is_refused_to_everyone(
    services: AppServices, caplog: pytest.LogCaptureFixture, staff: tuple[str, ...], warned: bool
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.slack")
    assert slack_channel(context(services, slack_staff_users=staff)) is not None
    said = [r for r in caplog.records if "FARO_SLACK_STAFF_USERS" in r.getMessage()]
    assert len(said) == (1 if warned else 0)
    if warned:
        assert said[0].levelno == logging.WARNING and "refused to everyone" in said[0].getMessage()


def test_events_api_is_the_default(services: AppServices) -> None:
    parts = slack_channel(context(services))
    assert parts is not None
    [route] = parts.routes
    assert isinstance(route, Route) and route.path == "/slack/events"
    assert route.methods is not None and "POST" in route.methods
    assert [type(b) for b in parts.background] == [TurnDispatcher]


async def test_an_app_token_selects_socket_mode(services: AppServices) -> None:
    parts = slack_channel(context(services, slack_signing_secret=None, slack_app_token=APP_TOKEN))
    assert parts is not None and parts.routes == []  # no public endpoint
    queue, runner = parts.background
    assert isinstance(queue, TurnDispatcher) and isinstance(runner, SocketModeRunner)
    handler = runner.make_handler()
    assert isinstance(handler, AsyncSocketModeHandler)
    try:
        assert handler.app_token == APP_TOKEN
        assert handler.client.web_client.base_url == services.settings.slack.api_url
        assert handler.app.client.token == BOT_TOKEN
    finally:
        await handler.client.close()


def test_create_app_mounts_slack_when_configured(
    services: AppServices,
) -> None:
    app = create_app(services)
    with TestClient(app) as client:
        assert client.post("/slack/events", content=b"{}").status_code == 401
        assert post_signed(client, b'{"type":"url_verification","challenge":"ok"}').json() == {
            "challenge": "ok"
        }
    off = replace(services, settings=with_slack(services.settings, bot_token=None))
    with TestClient(create_app(off)) as client:
        assert client.post("/slack/events", content=b"{}").status_code in (404, 405)


def test_no_token_or_secret_reaches_the_logs(
    make_client: SlackClientFactory,
    slack_api: MockSlackApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in SLACK_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    client = make_client()
    slack_api.fail("chat.postMessage", Script(status=429, retry_after=1))
    post_signed(client, dm("hello"))
    slack_api.wait_for("chat.postMessage")
    post_signed(client, dm("tampered"), secret="wrong")
    post_signed(client, slash_command("status", response_url=slack_api.response_url()), form=True)
    slack_api.wait_for("response_url")
    slack_api.fail("chat.postMessage", Script(status=200, error="channel_not_found"))
    post_signed(client, dm("again"))
    slack_api.wait_for("chat.postMessage", 2)
    client.__exit__(None, None, None)  # drain the queue before reading the logs
    assert caplog.records, "expected debug logging from the Slack path"
    assert "chat.postMessage failed: channel_not_found" in caplog.text
    for secret in (BOT_TOKEN, SIGNING_SECRET, "faketesttoken"):
        assert secret not in caplog.text
