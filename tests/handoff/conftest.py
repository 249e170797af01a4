"""Handoff fixtures: the same tests on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db import Database
from bot.handoff.service import HandoffService
from bot.handoff.store import HandoffStore
from bot.templates import TemplateStore
from tests.faq_store.builders import postgres_schema, sqlite_url
from tests.helpers.handoff_fakes import RecordingChannel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh app database: a SQLite file, or a unique PostgreSQL schema."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database.open(db_url)
    yield db
    db.dispose()


@pytest.fixture
def store(database: Database) -> HandoffStore:
    return HandoffStore(database.engine)


@pytest.fixture
def templates() -> TemplateStore:
    return TemplateStore.from_paths([ROOT / "data" / "templates"])


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def service(
    store: HandoffStore, templates: TemplateStore, channel: RecordingChannel
) -> HandoffService:
    desk = HandoffService(store, templates)
    desk.use_channels({"web": channel, "telegram": channel, "slack": channel})
    return desk


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (for races between replicas)."""
    with postgres_schema() as url:
        yield url
