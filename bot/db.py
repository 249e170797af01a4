"""One way to open the app database (SQLite by default, PostgreSQL when configured).

Every store of the app (FAQ, unanswered questions, web history, Telegram)
opens its engine here, so they all get the same SQLite settings: WAL (readers
never block the writer, one fsync per commit), synchronous=NORMAL (a commit
survives a crash of the app; only an OS crash or power cut can lose the last
ones), and a busy timeout instead of "database is locked" errors under load.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite files get their folder created and the pragmas above."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    if parsed.database in (None, "", ":memory:"):
        # one in-memory database shared by every thread (tests, demos)
        return sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def as_utc(value: datetime) -> datetime:
    """A datetime read back from the database, aware (SQLite returns naive ones: they are UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
