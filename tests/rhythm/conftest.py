"""Databases for the crisis rhythm's stores: SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import bot.wiring  # noqa: F401 - defines every table of the app on bot.db.metadata
from bot.db import Database
from tests.faq_store.builders import postgres_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated app database on each backend."""
    if request.param == "sqlite":
        db = Database.open(f"sqlite:///{tmp_path}/app.db")
        yield db.engine
        db.dispose()
        return
    with postgres_schema() as url:
        db = Database.open(url)
        yield db.engine
        db.dispose()
