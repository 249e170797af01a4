"""Broadcast fixtures: the app database on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import SubscriptionStore
from bot.db import Database
from tests.faq_store.builders import postgres_schema, sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A fresh app database."""
    if request.param == "sqlite":
        eng = Database.open(sqlite_url(tmp_path)).engine
        yield eng
        eng.dispose()
    else:
        with postgres_schema() as url:
            eng = Database.open(url).engine
            yield eng
            eng.dispose()


@pytest.fixture
def subscriptions(engine: sa.Engine) -> SubscriptionStore:
    """Subscriptions on the fresh database."""
    return SubscriptionStore(engine)


@pytest.fixture
def outbox(engine: sa.Engine) -> Outbox:
    """The outbox on the fresh database."""
    return Outbox(engine, max_attempts=3)
