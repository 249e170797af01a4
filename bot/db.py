"""The app database: one engine, one metadata, versioned migrations, one error type.

Every table of the app is defined on :data:`metadata`; every store takes the
engine of one :class:`Database`, which :meth:`Database.open` creates and
brings to the newest schema (Alembic revisions in :mod:`bot.migrations`) before
anything reads it. No store creates tables itself.

SQLite settings (same for every store): WAL (readers never block the writer,
one fsync per commit), synchronous=NORMAL (a commit survives a crash of the
app; only an OS crash or power cut can lose the last ones), and a busy timeout
instead of "database is locked" errors under load.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
# PostgreSQL advisory lock held while one replica migrates (any constant bigint works;
# derived from a name so it does not collide with locks other apps pick by hand).
MIGRATION_LOCK_KEY = zlib.crc32(b"faro schema migrations")

metadata = sa.MetaData()


class StorageError(Exception):
    """The app database could not be reached or used (the SQLAlchemy error is chained)."""


_E = TypeVar("_E", bound=StorageError)


def storage_error(
    what: str,
    exc: BaseException,
    kind: type[_E] = StorageError,  # type: ignore[assignment]
) -> _E:
    """A ``kind`` of :class:`StorageError` saying ``what`` failed and why, in one sentence."""
    return kind(f"{what}: {_reason(exc)}")


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


class Database:
    """The app database: its engine, migrated to the newest schema by :meth:`open`."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, version_dirs: Sequence[Path] = ()) -> Database:
        """Connect to ``url`` and run the migrations; raises :class:`StorageError`."""
        try:
            engine = create_engine(url)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise storage_error(f"cannot open the app database {_safe(url)}", exc) from exc
        db = cls(engine)
        if migrate:
            try:
                db.upgrade(version_dirs=version_dirs)
            except StorageError:
                engine.dispose()
                raise
        return db

    @property
    def engine(self) -> sa.Engine:
        """The one engine every store of the app uses."""
        return self._engine

    def upgrade(self, revision: str = "head", *, version_dirs: Sequence[Path] = ()) -> None:
        """Bring the schema to ``revision``; one process at a time, a no-op when there."""
        from alembic import command

        where = self._engine.url.render_as_string(hide_password=True)
        try:
            with self._migration_lock() as conn:
                tables = sa.inspect(conn).get_table_names()
                before = _current_revision(conn)  # also ends the inspection's transaction
                if before is None and tables:
                    # Release 0.1 made its tables with create_all and kept no version:
                    # revision 0001 recognises them and only adds the missing ones.
                    logger.info("database %s predates migrations: upgrading it", where)
                command.upgrade(_config(conn, version_dirs), revision)
                after = _current_revision(conn)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise storage_error(f"cannot migrate the app database {where}", exc) from exc
        if before != after:
            logger.info("database %s migrated from %s to %s", where, before or "nothing", after)

    def revision(self) -> str | None:
        """The schema revision the database is at (None before the first migration)."""
        try:
            with self._engine.connect() as conn:
                return _current_revision(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot read the schema revision", exc) from exc

    def dispose(self) -> None:
        """Close pooled connections (an in-memory database is gone afterwards)."""
        self._engine.dispose()

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[sa.Connection]:
        """A connection on which no other process migrates at the same time."""
        if self._engine.dialect.name == "postgresql":
            with self._engine.connect() as conn:
                # Session-level lock: held across Alembic's own transaction, and released
                # by PostgreSQL if this process dies mid-migration.
                conn.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
                conn.commit()
                try:
                    yield conn
                finally:
                    conn.rollback()
                    conn.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
                    conn.commit()
            return
        path = _sqlite_file(self._engine)
        if path is None:  # in memory, or another backend: only this process sees it
            with self._engine.connect() as conn:
                yield conn
            return
        # SQLite: an exclusive flock on "<db>.migrate-lock" beside the file, taken before
        # connecting (the first connection's PRAGMA journal_mode=WAL fails as "database is
        # locked" when two starts race; pysqlite makes BEGIN EXCLUSIVE around DDL unreliable).
        with open(f"{path}.migrate-lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with self._engine.connect() as conn:
                    yield conn
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def as_utc(value: datetime) -> datetime:
    """A datetime read back from the database, aware (SQLite returns naive ones: they are UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _config(conn: sa.Connection, version_dirs: Sequence[Path]) -> Any:
    """An Alembic config built in code: nobody needs an alembic.ini."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    locations = [VERSIONS_DIR, *version_dirs]
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    config.attributes["connection"] = conn
    return config


def _current_revision(conn: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    revision = MigrationContext.configure(conn).get_current_revision()
    if conn.in_transaction():
        conn.commit()  # end the read's implicit transaction; Alembic begins its own
    return revision


def _sqlite_file(engine: sa.Engine) -> str | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    return None if database in (None, "", ":memory:") else database


def _safe(url: str) -> str:
    """``url`` without its password, or a placeholder when it does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(unparseable URL)"


def _reason(exc: BaseException) -> str:
    """The first line of the driver's message, and the error's type."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return f"{first[:200]} ({type(exc).__name__})" if first else type(exc).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
