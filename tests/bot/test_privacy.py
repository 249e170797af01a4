"""bot.privacy and ``faro privacy``: one customer's data found, exported and erased in every
table (Rasa's tracker too) on SQLite and PostgreSQL, audited; retention purges."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import bot.wiring  # noqa: F401 - defines every table of the app on bot.db.metadata
from bot.broadcast.tables import (
    broadcasts,
    incident_askers,
    outbox,
    subscription_offers,
    subscriptions,
)
from bot.channels.contact.tables import contact_events, contact_requests
from bot.channels.web_history import WebHistory, web_messages, web_sessions
from bot.cli.main import cli
from bot.core.messages import BotMessage
from bot.db import Database, metadata
from bot.handoff.store import HandoffStore
from bot.handoff.tables import chatwoot_links, handoffs
from bot.privacy import PersonalData, Retention, privacy_audit
from bot.rhythm.questions import QuestionLog
from bot.store import AppStore
from tests.faq_store.builders import postgres_schema

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ALICE, BOB = "web:alice-session", "web:bob-session"
ALICE_TG, ALICE_MAIL = "telegram:555", "alice@example.com"


def tracker_file(path: Path, rows: list[tuple[str, float]]) -> str:
    """A Rasa SQL tracker store (its ``events`` table) with ``(sender_id, timestamp)`` rows."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
                " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
                " action_name VARCHAR(255), data TEXT)"
            )
        )
        for sender, ts in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO events (sender_id, type_name, timestamp, data)"
                    " VALUES (:s, 'user', :t, :d)"
                ),
                {"s": sender, "t": ts, "d": json.dumps({"text": f"hello from {sender}"})},
            )
    engine.dispose()
    return url


def fill(engine: sa.Engine, who: str, address: str, *, at: datetime = NOW) -> None:
    """One customer's conversation that touched every table holding personal data."""
    store = AppStore(engine)
    store.record_unanswered(f"{who} asks about card 4111", "en", conversation_id=who)
    history = WebHistory(engine)
    if who.startswith("web:"):
        history.start_session(who.removeprefix("web:"))
    history.append(who, "user", [BotMessage(f"{who}: my account is locked")])
    with engine.begin() as conn:
        conn.execute(
            subscriptions.insert().values(
                conversation_id=who, channel=who.split(":")[0], address=address, lang="en",
                components="", active=True, created_at=at, updated_at=at,
            )
        )  # fmt: skip
        conn.execute(
            incident_askers.insert().values(
                incident_id="inc-1", conversation_id=who, channel="web", address=address,
                lang="en", asked_at=at,
            )
        )  # fmt: skip
        conn.execute(subscription_offers.insert().values(conversation_id=who, offered_at=at))
        key = conn.execute(
            broadcasts.insert().values(
                key=f"b-{who}", kind="incident", title="t", components="", created_at=at,
                created_by="status feed", recipients=1,
            )
        ).inserted_primary_key  # fmt: skip
        assert key is not None
        bid = key[0]
        conn.execute(
            outbox.insert().values(
                broadcast_id=bid, conversation_id=who, channel="web", address=address, lang="en",
                text="update", state="sent", attempts=1, due_at=at, sent_at=at, interrupted=0,
            )
        )  # fmt: skip
    # an email subscription's confirmation request and its audit
    with engine.begin() as conn:
        conn.execute(
            contact_requests.insert().values(
                channel="email", address=address, lang="en", components="", secret="s",
                attempts=0, created_at=at, expires_at=at + timedelta(days=2), confirmed_at=at,
            )
        )  # fmt: skip
        conn.execute(
            contact_events.insert().values(
                at=at, channel="email", address=address, event="confirmed", detail=""
            )
        )
    # the crisis rhythm's question log (issue 16)
    log = QuestionLog(engine)
    log.record(
        conversation_id=who, channel=who.split(":")[0], lang="en", text=f"{who}: card declined",
        topics=["Card payments"], outcome="answered", at=at,
    )  # fmt: skip
    assert log.flush() == 1
    # a handoff to a person: its messages, audit and events, and its Chatwoot link
    desk = HandoffStore(engine)
    handoff, _ = desk.open(who, "web", "en", transcript=[("user", f"{who}: help", at)])
    assert desk.claim(handoff.id, "agent-ana")
    desk.add_message(handoff.id, "agent", f"hello {who}", author="agent-ana")
    with engine.begin() as conn:
        conn.execute(
            chatwoot_links.insert().values(
                handoff_id=handoff.id, source_id=f"src-{who}",
                chatwoot_conversation_id=abs(hash(who)) % 100_000,
            )
        )  # fmt: skip


def personal_tables() -> set[str]:
    return {
        t.name
        for t in metadata.sorted_tables
        if (
            "conversation_id" in t.c
            or "address" in t.c
            or "handoff_id" in t.c
            or t.name == "web_sessions"
        )
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        db = Database.open(f"sqlite:///{tmp_path}/app.db")
        yield db.engine
        db.engine.dispose()
        return
    with postgres_schema() as url:
        db = Database.open(url)
        yield db.engine
        db.engine.dispose()


def test_erase_removes_one_customer_from_every_table_and_rasa_and_keeps_the_others(
    engine: sa.Engine, tmp_path: Path
) -> None:
    fill(engine, ALICE, ALICE_MAIL)
    fill(engine, BOB, "bob@example.com")
    tracker = tracker_file(tmp_path / "tracker-0.db", [(ALICE, 1.0), (ALICE, 2.0), (BOB, 3.0)])
    data = PersonalData(engine, tracker_urls=lambda: [tracker], clock=lambda: NOW)
    subject = data.find(ALICE)
    before = data.count(subject)
    assert {k for k, v in before.items() if v} == personal_tables() | {"rasa_tracker"}
    exported = data.export(subject, actor="cli:dpo")
    assert "my account is locked" in json.dumps(exported) and "bob" not in json.dumps(exported)
    gone = data.erase(subject, actor="cli:dpo")
    assert gone == before
    assert sum(data.count(subject).values()) == 0
    bob = data.count(data.find(BOB))
    assert {k for k, v in bob.items() if v} == personal_tables() | {"rasa_tracker"}
    audit = data.audit_log()
    assert [a["action"] for a in audit] == ["erase", "export"]
    assert all(a["actor"] == "cli:dpo" and a["subject_digest"] for a in audit)
    assert ALICE not in json.dumps(audit)


def test_an_email_finds_every_conversation_it_was_used_in(engine: sa.Engine) -> None:
    fill(engine, ALICE, ALICE_MAIL)
    fill(engine, ALICE_TG, ALICE_MAIL)
    fill(engine, BOB, "bob@example.com")
    data = PersonalData(engine, clock=lambda: NOW)
    subject = data.find(ALICE_MAIL)
    assert subject.conversation_ids == {ALICE, ALICE_TG}
    data.erase(subject, actor="cli:dpo")
    assert sum(data.count(data.find(ALICE)).values()) == 0
    assert sum(data.count(data.find(ALICE_TG)).values()) == 0
    assert sum(data.count(data.find(BOB)).values()) > 0


def test_retention_purges_only_what_is_past_its_horizon(engine: sa.Engine, tmp_path: Path) -> None:
    old = NOW - timedelta(days=400)
    fill(engine, ALICE, ALICE_MAIL, at=old)
    fill(engine, BOB, "bob@example.com", at=NOW)
    with engine.begin() as conn:  # the old rows' own timestamps (the stores stamp "now")
        conn.execute(
            web_messages.update()
            .where(web_messages.c.conversation_id == ALICE)
            .values(created_at=old)
        )
        conn.execute(
            web_sessions.update()
            .where(web_sessions.c.sid == "alice-session")
            .values(created_at=old, last_seen_at=old)
        )
        conn.execute(
            sa.text("UPDATE unanswered_questions SET asked_at = :o WHERE conversation_id = :c"),
            {"o": old, "c": ALICE},
        )
        conn.execute(
            subscriptions.update()
            .where(subscriptions.c.conversation_id == ALICE)
            .values(active=False, retired_at=old)
        )
        conn.execute(
            handoffs.update()
            .where(handoffs.c.conversation_id == ALICE)
            .values(state="closed", outcome="closed", closed_at=old)
        )
        conn.execute(
            contact_requests.update()
            .where(contact_requests.c.address == ALICE_MAIL)
            .values(created_at=old, expires_at=old)
        )
        conn.execute(
            contact_events.update().where(contact_events.c.address == ALICE_MAIL).values(at=old)
        )
    tracker = tracker_file(
        tmp_path / "tracker-0.db", [(ALICE, old.timestamp()), (BOB, NOW.timestamp())]
    )
    data = PersonalData(engine, tracker_urls=lambda: [tracker], clock=lambda: NOW)
    gone = data.purge(Retention())
    assert {k for k, v in gone.items() if v} == personal_tables() | {"rasa_tracker"}
    assert sum(data.count(data.find(ALICE)).values()) == 0
    assert all(v > 0 for k, v in data.count(data.find(BOB)).items() if k in personal_tables())
    assert data.purge(Retention()) == dict.fromkeys(gone, 0)  # idempotent
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(privacy_audit)).scalar_one() == 2


def test_the_cli_erases_with_counts_and_says_one_line_on_mistakes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"FARO_DATA_DIR": str(data_dir), "FARO_PROJECT_DIR": str(tmp_path)}
    db = Database.open(f"sqlite:///{data_dir}/faro.db")
    fill(db.engine, ALICE, ALICE_MAIL)
    db.engine.dispose()
    (data_dir / "rasa").mkdir()
    tracker_file(data_dir / "rasa" / "tracker-0.db", [(ALICE, 1.0)])
    runner = CliRunner()
    exported = runner.invoke(cli, ["privacy", "export", ALICE, "--by", "dpo"], env=env)
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["data"]["rasa_tracker"][0]["sender_id"] == ALICE
    refused = runner.invoke(cli, ["privacy", "erase", ALICE], env=env, input="n\n")
    assert refused.exit_code == 2 and "nothing erased" in refused.output
    erased = runner.invoke(cli, ["privacy", "erase", ALICE, "--yes"], env=env)
    assert erased.exit_code == 0, erased.output
    result: dict[str, Any] = json.loads(erased.output.splitlines()[-1])
    assert result["erased"]["rasa_tracker"] == 1
    assert result["erased"]["handoff_messages"] == 2  # the transcript's line and the agent's
    assert {k for k, v in result["erased"].items() if v} == personal_tables() | {"rasa_tracker"}
    assert result["total"] == sum(result["erased"].values())
    again = runner.invoke(cli, ["privacy", "erase", ALICE, "--yes"], env=env)
    assert again.exit_code == 0 and "nothing found" in again.output
    audit = runner.invoke(cli, ["privacy", "audit"], env=env)
    assert audit.output.count("erase") == 1 and "export" in audit.output
    empty = runner.invoke(cli, ["privacy", "erase", " "], env=env)
    assert empty.exit_code == 2 and empty.output.startswith("error: give a conversation id")
