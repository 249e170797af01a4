"""Console fixtures: the admin with the console's parts over a real database and encoder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.admin import Grouper, LiveTemplates, admin_routes
from bot.broadcast.compose import Composer
from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import SubscriptionStore
from bot.broadcast.watcher import Broadcaster
from bot.console.groups import UnansweredGroups
from bot.console.templates_db import TemplateDb, TemplateReloader
from bot.db import Database
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.status.answers import AnswerWriter
from bot.status.components import ComponentMatcher, load_aliases
from bot.status.live import LiveStatus
from bot.status.service import LiveStatusService
from bot.status.statuspage import loads
from bot.store import AppStore
from bot.templates import TemplateStore
from bot.wiring import renderers
from faq_index import Encoder, load_encoder
from tests.admin.conftest import PASSWORD, TOKEN, Admin
from tests.faq_store.builders import postgres_schema, sqlite_url, write_seed
from tests.helpers.status_builders import ALIASES, SAMPLE_FEED, FakeClock

PROJECT = Path(__file__).resolve().parents[2]
TEMPLATES = PROJECT / "data" / "templates"


@pytest.fixture(scope="session")
def model() -> Encoder:
    """The app's default encoder (all-MiniLM-L6-v2, packaged): grouping is by meaning."""
    return load_encoder()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema() as url:
            yield url


@dataclass
class Console(Admin):
    """The admin with the console: groups, live templates, a status service."""

    grouper: Grouper
    templates: LiveTemplates
    status: LiveStatusService
    broadcaster: Broadcaster


def make_console(url: str, tmp_path: Path, encoder: Encoder) -> Console:
    app_store = AppStore(Database.open(url).engine)
    faq_store = FaqStore(app_store.engine)
    faq = FaqService.from_store(
        faq_store, encoder=encoder, store=app_store, seed_paths=[write_seed(tmp_path)]
    )
    store = TemplateStore.from_paths([TEMPLATES])
    db = TemplateDb.from_paths(app_store.engine, [TEMPLATES])
    db.seed()
    reloader = TemplateReloader(db, store, interval_s=0.2)
    reloader.refresh()
    live_templates = LiveTemplates(store=store, db=db, reloader=reloader)
    live = LiveStatus(clock=FakeClock())
    live.accept(loads(SAMPLE_FEED.read_bytes()))
    status = LiveStatusService(
        live, writer=AnswerWriter(store), matcher=ComponentMatcher(load_aliases(ALIASES))
    )
    grouper = Grouper(UnansweredGroups(app_store.engine), faq)
    broadcaster = Broadcaster(
        live=live,
        subscriptions=SubscriptionStore(app_store.engine),
        outbox=Outbox(app_store.engine),
        composer=Composer(store),
        renderers=renderers(),
    )
    routes = admin_routes(
        password=PASSWORD,
        token=TOKEN,
        session_secret="test-session-secret",
        faq_store=faq_store,
        faq=faq,
        app_store=app_store,
        status=status,
        broadcaster=broadcaster,
        grouper=grouper,
        templates=live_templates,
        renderers=renderers(),
    )
    client = TestClient(Starlette(routes=routes), base_url="https://testserver")
    return Console(client, faq_store, faq, app_store, grouper, live_templates, status, broadcaster)


@pytest.fixture
def console(db_url: str, tmp_path: Path, model: Encoder) -> Iterator[Console]:
    c = make_console(db_url, tmp_path, model)
    response = c.login()
    assert response.status_code == 200 and response.url.path == "/admin"
    yield c
    c.client.close()
    c.app_store.dispose()
