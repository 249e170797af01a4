"""FAQ store fixtures: the same tests on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db import Database
from bot.faqdb.store import FaqStore
from bot.store import AppStore
from tests.faq_store.builders import postgres_schema, sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh app database: a SQLite file, or a unique PostgreSQL schema."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture
def app_store(db_url: str) -> Iterator[AppStore]:
    store = AppStore(Database.open(db_url).engine)
    yield store
    store.dispose()


@pytest.fixture
def faq_store(app_store: AppStore) -> FaqStore:
    return FaqStore(app_store.engine)
