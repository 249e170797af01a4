"""Migrations: a release-0.1 database upgrades keeping its rows; fresh and upgraded match."""

from __future__ import annotations

import contextlib
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import bot.admin.accounts
import bot.admin.sessions
import bot.broadcast.tables
import bot.channels.contact.tables
import bot.channels.slack.store
import bot.channels.telegram.store
import bot.channels.web_history
import bot.console.groups
import bot.console.templates_db
import bot.faqdb.store
import bot.handoff.tables
import bot.privacy
import bot.rhythm.tables
import bot.store  # noqa: F401 - every table on bot.db.metadata
from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import Recipient, SubscriptionStore
from bot.channels.telegram.store import TelegramStore
from bot.channels.web_history import WebHistory
from bot.core.messages import BotMessage
from bot.db import Database, StorageError, metadata
from bot.faqdb.store import FaqStore
from bot.store import AppStore
from tests.faq_store.builders import POSTGRES_ADMIN_URL, postgres_schema

FIXTURES = Path(__file__).with_name("fixtures")
HEAD = "0007_console"
ROWS = {
    "broadcast_channel_leases": 1,
    "broadcasts": 1,
    "chatwoot_links": 0,
    "chatwoot_replies": 0,
    "contact_events": 0,
    "contact_requests": 0,
    "faq_audit": 4,
    "faq_entries": 3,
    "faq_revision": 1,
    "handoff_agents": 0,
    "handoff_audit": 0,
    "handoff_events": 0,
    "handoff_messages": 0,
    "handoff_webhook_state": 0,
    "handoffs": 0,
    "incident_askers": 1,
    "outbox": 2,
    "subscription_offers": 1,
    "subscriptions": 2,
    "telegram_callbacks": 1,
    "telegram_updates": 2,
    "unanswered_questions": 2,
    "web_messages": 3,
    "web_sessions": 1,
    # issue 19 (0003_security): empty after an upgrade
    "admin_sessions": 0,
    "privacy_audit": 0,
    "signin_failures": 0,
    "slack_events": 0,
    # issue 16 (0005_rhythm): empty after an upgrade
    "question_log": 0,
    "review_marks": 0,
    "staff_alerts": 0,
    # issue 15 (0006_accounts): empty after an upgrade
    "admin_account_events": 0,
    "admin_accounts": 0,
    "admin_links": 0,
    # issue 15, the console (0007_console): empty after an upgrade
    "faq_feedback": 0,
    "template_versions": 0,
    "unanswered_groups": 0,
}


@contextlib.contextmanager
def postgres_database(dump: Path | None = None) -> Iterator[str]:
    """A URL of a new private PostgreSQL database (loaded from ``dump``), dropped afterwards."""
    name = f"faro_mig_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        if dump is not None:
            import psycopg  # the dump has '%' in its data: no parameter parsing at all

            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as raw:
                raw.execute(dump.read_text(encoding="utf-8").encode())
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The database server the test runs on."""
    return str(request.param)


@pytest.fixture
def previous_release(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of a database made by release 0.1 (no alembic_version), private to the test."""
    if backend == "sqlite":
        path = tmp_path / "faro.db"
        shutil.copy(FIXTURES / "release-0.1.sqlite", path)
        yield f"sqlite:///{path}"
    else:
        with postgres_database(FIXTURES / "release-0.1-postgres.sql") as url:
            yield url


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file or a private PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        with postgres_schema() as url:
            yield url


def counts(engine: sa.Engine) -> dict[str, int]:
    """Rows per table (not alembic_version)."""
    with engine.connect() as conn:
        names = [n for n in sa.inspect(conn).get_table_names() if n != "alembic_version"]
        return {n: conn.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def schema(engine: sa.Engine) -> dict[str, Any]:
    """Tables, columns, keys, indexes and constraints as the database reports them."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        insp = sa.inspect(conn)
        for name in sorted(insp.get_table_names()):
            if name == "alembic_version":
                continue
            out[name] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c.get("autoincrement"))
                    for c in insp.get_columns(name)
                ],
                "pk": insp.get_pk_constraint(name)["constrained_columns"],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(name)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(name)
                ),
                "fks": sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"])
                    for f in insp.get_foreign_keys(name)
                ),
            }
    return out


def test_previous_release_upgrades_to_head_keeping_every_row(previous_release: str) -> None:
    db = Database.open(previous_release)
    try:
        assert db.revision() == HEAD
        assert counts(db.engine) == ROWS
        engine = db.engine
        entries, revision = FaqStore(engine).snapshot()
        assert sorted(e.id for e in entries) == ["sla", "status-page"]  # refunds is retired
        assert revision == 3
        assert FaqStore(engine).get("status-page").entry.answer["es"] == "En status.example.com."  # type: ignore[union-attr]
        assert [a.action for a in FaqStore(engine).audit()].count("seed") == 2
        groups = AppStore(engine).unanswered_groups()
        assert {g.text for g in groups} == {"Is the API down?", "¿Está caída la API?"}
        subs = SubscriptionStore(engine)
        assert subs.get("telegram:42").components == ("api",)  # type: ignore[union-attr]
        tg = Recipient("telegram:42", "telegram", "42", "es")
        assert subs.askers("inc-1") == [tg]
        assert not subs.offer_once("web:s-1")  # offered in release 0.1 already
        audit = Outbox(engine).audit()
        assert {(a.conversation_id, a.state) for a in audit} == {
            ("telegram:42", "pending"),
            ("web:s-1", "sent"),
        }
        history = WebHistory(engine)
        assert history.start_session("s-1") == 0
        texts = [m.text for m in history.history("web:s-1", start_id=0)]
        assert texts == ["hello", "Hi! Pick one", "API errors"]
        assert history.history("web:s-1", start_id=0)[1].buttons[0].payload == "/status"
        telegram = TelegramStore(engine)
        assert not telegram.claim_update(1001)  # seen by release 0.1
        assert telegram.load_payload("k" * 32) == "/subscribe" + "{" * 80
        # new rows get ids after the old ones (sequences and autoincrement intact)
        added = history.append("web:s-1", "bot", [BotMessage("back")])
        assert added[0].id == 4
    finally:
        db.dispose()


def test_upgrading_twice_changes_nothing(previous_release: str) -> None:
    first = Database.open(previous_release)
    before, rows = schema(first.engine), counts(first.engine)
    first.dispose()
    second = Database.open(previous_release)
    try:
        assert second.revision() == HEAD
        assert schema(second.engine) == before
        assert counts(second.engine) == rows
    finally:
        second.dispose()


def test_fresh_database_gets_the_schema_of_an_upgraded_one(
    previous_release: str, fresh_url: str
) -> None:
    upgraded, fresh = Database.open(previous_release), Database.open(fresh_url)
    try:
        assert fresh.revision() == HEAD
        assert schema(fresh.engine) == schema(upgraded.engine)
        assert set(schema(fresh.engine)) == set(ROWS)
    finally:
        upgraded.dispose()
        fresh.dispose()


def test_revision_0001_makes_what_the_table_definitions_make(
    fresh_url: str, tmp_path: Path
) -> None:
    migrated = Database.open(fresh_url)
    try:
        with migrated.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                reference_url = None
            else:
                reference_url = f"sqlite:///{tmp_path / 'create_all.db'}"
        if reference_url is None:
            with postgres_schema() as url:
                reference = Database.open(url, migrate=False)
                metadata.create_all(reference.engine)
                expected = schema(reference.engine)
                reference.dispose()
        else:
            reference = Database.open(reference_url, migrate=False)
            metadata.create_all(reference.engine)
            expected = schema(reference.engine)
            reference.dispose()
        assert set(expected) == set(ROWS)  # every table of the app is on bot.db.metadata
        assert schema(migrated.engine) == expected
    finally:
        migrated.dispose()


def test_a_newer_revision_upgrades_from_0001_keeping_rows(
    previous_release: str, tmp_path: Path
) -> None:
    Database.open(previous_release).dispose()  # at the previous head
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "0002_web_sessions_note.py").write_text(
        '"""Throwaway: a column on web_sessions."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f'revision = "0002"\ndown_revision = "{HEAD}"\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n"
        '    with op.batch_alter_table("web_sessions") as batch:\n'
        '        batch.add_column(sa.Column("note", sa.String(20), nullable=False,'
        ' server_default="old"))\n\n\n'
        "def downgrade() -> None:\n"
        '    with op.batch_alter_table("web_sessions") as batch:\n'
        '        batch.drop_column("note")\n',
        encoding="utf-8",
    )
    db = Database.open(previous_release, version_dirs=[versions])
    try:
        assert db.revision() == "0002"
        assert counts(db.engine) == ROWS
        with db.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT sid, start_id, note FROM web_sessions")).one()
        assert tuple(row) == ("s-1", 0, "old")
        assert WebHistory(db.engine).start_session("s-1") == 0
    finally:
        db.dispose()


def test_concurrent_starts_migrate_once(fresh_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            Database.open(fresh_url).dispose()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    db = Database.open(fresh_url)
    try:
        assert db.revision() == HEAD
        assert set(counts(db.engine)) == set(ROWS)
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a database url", "cannot open the app database (unparseable URL)"),
        ("nosuchdb://x/y", "cannot open the app database nosuchdb://x/y"),
        pytest.param(
            "postgresql+psycopg://faro:secret@127.0.0.1:1/faro",
            "cannot migrate the app database postgresql+psycopg://faro:***@127.0.0.1:1/faro",
            marks=pytest.mark.postgres,
        ),
    ],
)
def test_a_bad_database_url_is_one_clear_storage_error(url: str, says: str) -> None:
    with pytest.raises(StorageError) as caught:
        Database.open(url)
    message = str(caught.value)
    assert message.startswith(says)
    assert "secret" not in message
    assert "\n" not in message
    assert isinstance(caught.value.__cause__, sa.exc.SQLAlchemyError)


def test_an_unusable_sqlite_path_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(StorageError, match="cannot open the app database sqlite:///"):
        Database.open(f"sqlite:///{blocker / 'faro.db'}")


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    garbage = tmp_path / "faro.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot migrate the app database .*DatabaseError"):
        Database.open(f"sqlite:///{garbage}")
