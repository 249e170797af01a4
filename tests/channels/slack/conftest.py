"""Fixtures for the Slack channel tests: a loopback Slack API and the channel in an app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.channels.base import ChannelContext, ChannelParts
from bot.channels.slack import slack_channel
from bot.core.messages import Conversation
from bot.db import Database
from bot.faq_service import FaqService
from bot.http import EXCEPTION_HANDLERS
from bot.services import AppServices
from bot.settings import Settings
from bot.store import AppStore
from bot.templates import TemplateStore
from bot.wiring import build_web_push
from faq_index import FaqIndex, HashingEncoder, parse_faq_text
from tests.bot.conftest import offline  # noqa: F401 - the loopback-only network guard
from tests.bot.helpers import PROJECT_DIR, TEMPLATES_DIR, FakeConversation, FakeStatus
from tests.helpers.app_services import app_services
from tests.helpers.faq_builders import OUTAGE_FAQ_YAML
from tests.helpers.slack_fake import BOT_TOKEN, SIGNING_SECRET, MockSlackApi, running_slack_api

FAQ_WITH_PINGS = (
    OUTAGE_FAQ_YAML
    + """\
  - id: all-hands
    question:
      en: Who do I tell about the outage?
    answer:
      en: "Tell <!channel> and <@U123> & friends <b>now</b>."
"""
)


@pytest.fixture
def slack_api() -> Iterator[MockSlackApi]:
    """The mock Slack Web API on a free loopback port."""
    with running_slack_api() as api:
        yield api


@pytest.fixture
def settings(tmp_path: Path, slack_api: MockSlackApi) -> Settings:
    """App settings with Slack on (Events API), pointed at the mock."""
    return Settings.from_env(
        {
            "FARO_PROJECT_DIR": str(PROJECT_DIR),
            "FARO_DATA_DIR": str(tmp_path / "data"),
            "FARO_SLACK_BOT_TOKEN": BOT_TOKEN,
            "FARO_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "FARO_SLACK_API_URL": slack_api.url,
            "FARO_SLACK_STAFF_USERS": "U0STAFF,U0BOSS",
        }
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[AppStore]:
    """A real app store on SQLite in the test's folder."""
    s = AppStore(Database.open(settings.database.url).engine)
    yield s
    s.dispose()


@pytest.fixture
def status() -> FakeStatus:
    return FakeStatus()


@pytest.fixture
def services(settings: Settings, store: AppStore, status: FakeStatus) -> AppServices:
    """Real templates, store and FAQ index (hashing encoder); the status service faked."""
    index = FaqIndex.build(parse_faq_text(FAQ_WITH_PINGS), HashingEncoder())
    return app_services(
        settings,
        templates=TemplateStore.from_paths([TEMPLATES_DIR]),
        store=store,
        faq=FaqService(index=index, store=store),
        status=status,
    )


@pytest.fixture
def conversation() -> FakeConversation:
    return FakeConversation()


def channel_app(parts: ChannelParts) -> Starlette:
    """A Starlette app serving one channel's routes and running its background work."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        for task in parts.background:
            await task.start()
        yield
        for task in reversed(parts.background):
            await task.stop()

    return Starlette(routes=parts.routes, lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS)


SlackClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(
    settings: Settings, services: AppServices, conversation: FakeConversation
) -> Iterator[SlackClientFactory]:
    """Build the Slack channel (optionally with another Conversation) and a TestClient."""
    clients: list[TestClient] = []

    def make(conv: Conversation | None = None, **overrides: Any) -> TestClient:

        ctx = ChannelContext(
            settings=with_slack(settings, **overrides),
            conversation=conv or conversation,
            services=services,
            web_push=build_web_push(services),
        )
        parts = slack_channel(ctx)
        assert parts is not None
        client = TestClient(channel_app(parts))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: SlackClientFactory) -> TestClient:
    """The Slack channel over the FakeConversation."""
    return make_client()


def with_slack(settings: Settings, **overrides: Any) -> Settings:
    """``settings`` with its Slack section changed (``slack_staff_users=`` or ``staff_users=``)."""
    from dataclasses import replace

    section = {k.removeprefix("slack_"): v for k, v in overrides.items()}
    return replace(settings, slack=replace(settings.slack, **section))
