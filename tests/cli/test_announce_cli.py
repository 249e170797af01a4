"""``faro announce``, ``faro broadcasts``, ``faro deliveries`` over a real SQLite database."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from bot.broadcast.compose import Composer
from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import SubscriptionStore
from bot.cli.main import cli
from bot.db import Database
from bot.wiring import renderers
from tests.faq_store.builders import sqlite_url, write_seed
from tests.helpers.broadcast_builders import (
    SUBSCRIBERS,
    TEMPLATES,
    expected_recipients,
    save_status,
    subscribe,
)
from tests.helpers.status_builders import PROJECT


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The app's environment: project templates, a fresh data dir and database."""
    values = {
        "FARO_PROJECT_DIR": str(PROJECT),
        "FARO_DATA_DIR": str(tmp_path / "data"),
        "FARO_DATABASE_URL": sqlite_url(tmp_path),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def engine(env: dict[str, str]) -> Iterator[sa.Engine]:
    """The app database, with the sample subscribers."""
    eng = Database.open(env["FARO_DATABASE_URL"]).engine
    subscribe(SubscriptionStore(eng))
    yield eng
    eng.dispose()


def run(*args: str, stdin: str | None = None) -> Result:
    """``faro ARGS``."""
    return CliRunner().invoke(cli, list(args), input=stdin)


def written(engine: sa.Engine) -> Outbox:
    """The outbox, to read what the CLI wrote."""
    return Outbox(engine)


def test_preview_prints_every_channel_and_language_and_writes_nothing(
    engine: sa.Engine,
) -> None:
    result = run(
        "announce", "--en", "Branches <close> at 3pm", "--es", "Cerramos a las 15", "--preview"
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(
        f"Preview (nothing sent): {len(SUBSCRIBERS)} recipient(s), all subscribers"
    )
    composer = Composer(TEMPLATES)
    texts = {"en": "Branches <close> at 3pm", "es": "Cerramos a las 15"}
    for channel, en_count, es_count in (("telegram", 1, 1), ("slack", 1, 1), ("web", 1, 0)):
        for lang, count in (("en", en_count), ("es", es_count)):
            assert f"== {channel} / {lang}: {count} recipient(s)" in out
            for message in renderers()[channel](composer.announcement_text(texts, lang, channel)):
                assert message in out
    assert "Branches &lt;close&gt; at 3pm" in out  # Telegram HTML, Slack mrkdwn
    assert "Branches <close> at 3pm" in out  # the web widget
    assert written(engine).progress() == []


def test_announce_writes_one_broadcast_for_the_running_app(engine: sa.Engine) -> None:
    result = run("announce", "--en", "Maintenance tonight.", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"broadcast 1: {len(SUBSCRIBERS)} recipient(s), all subscribers"
    )
    [progress] = written(engine).progress()
    assert progress.kind == "announcement" and progress.created_by.startswith("cli:")
    assert progress.key.startswith("announce:")
    assert progress.counts == {"pending": len(SUBSCRIBERS)}
    rows = written(engine).audit(broadcast_id=progress.id)
    assert {r.conversation_id for r in rows} == expected_recipients()
    spanish = next(r for r in rows if r.conversation_id == "telegram:102")
    assert "Maintenance tonight." in spanish.text and spanish.text.startswith("📣 Aviso")

    again = run("announce", "--en", "Maintenance tonight.", "--yes")
    assert again.exit_code == 0
    assert len(written(engine).progress()) == 2  # a new command is a new announcement


def test_announce_asks_before_sending(engine: sa.Engine) -> None:
    result = run("announce", "--es", "Hola", stdin="n\n")
    assert result.exit_code == 1
    assert f"Send to {len(SUBSCRIBERS)} recipient(s), all subscribers?" in result.stderr
    assert written(engine).progress() == []
    assert run("announce", "--es", "Hola", stdin="y\n").exit_code == 0
    assert len(written(engine).progress()) == 1


def test_component_is_checked_against_the_saved_status(
    engine: sa.Engine, env: dict[str, str]
) -> None:
    save_status(Path(env["FARO_DATA_DIR"]) / "state")
    result = run("announce", "--en", "Card trouble", "--component", "card PAYMENTS", "--yes")
    assert result.exit_code == 0, result.output
    assert "subscribers of Card payments" in result.stdout
    [progress] = written(engine).progress()
    rows = written(engine).audit(broadcast_id=progress.id)
    assert {r.conversation_id for r in rows} == expected_recipients("Card payments")

    preview = run("announce", "--en", "ATMs", "--component", "ATMs", "--preview")
    assert preview.stdout.startswith("Preview (nothing sent): 4 recipient(s), subscribers of ATMs")

    bad = run("announce", "--en", "x", "--component", "Branches", "--yes")
    assert bad.exit_code == 2
    assert bad.stderr.strip().splitlines() == [
        "error: unknown component 'Branches' (components: Card payments, ATMs, Mobile app)"
    ]
    assert len(written(engine).progress()) == 1


def test_component_without_a_saved_status_is_used_as_given(engine: sa.Engine) -> None:
    result = run("announce", "--en", "ATMs", "--component", "atms", "--yes")
    assert result.exit_code == 0, result.output
    assert "warning: no saved status" in result.stderr
    [progress] = written(engine).progress()
    rows = written(engine).audit(broadcast_id=progress.id)
    assert {r.conversation_id for r in rows} == expected_recipients("ATMs")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["announce"], "error: the announcement is empty"),
        (["announce", "--en", "  ", "--es", "", "--yes"], "error: the announcement is empty"),
        (["announce", "--en", "x" * 2001, "--yes"], "error: the en text has 2001 characters"),
        (["announce", "--en", "hi", "--bogus"], "error: No such option '--bogus'"),
        (["announce", "--en"], "error: Option '--en' requires an argument"),
        (["announce", "--en", "hi", "--component", " ", "--yes"], "error: --component"),
        (["broadcasts", "--limit", "0"], "error: Invalid value for '--limit'"),
        (["deliveries"], "error: Missing argument 'CONVERSATION_ID'"),
    ],
)
def test_mistakes_end_in_one_line(engine: sa.Engine, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert result.stdout == ""
    assert written(engine).progress() == []


def test_broadcasts_json_shows_progress(engine: sa.Engine) -> None:
    assert run("broadcasts").stdout.strip() == "No broadcasts yet."
    run("announce", "--en", "First", "--yes")
    run("announce", "--en", "Second", "--component", "Mobile app", "--yes")
    outbox = written(engine)
    [item] = [i for i in outbox.claim(["web"], "test", limit=10) if i.broadcast_id == 1]
    outbox.sent(item.id)

    result = run("broadcasts", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [b["id"] for b in data] == [2, 1]
    assert data[1]["title"] == "First" and data[1]["kind"] == "announcement"
    assert data[1]["counts"] == {"pending": 4, "sending": 0, "sent": 1, "failed": 0, "retired": 0}
    assert data[1]["recipients"] == 5 and data[1]["done"] is False
    assert data[0]["recipients"] == 2  # those following every incident
    assert data[0]["created_by"].startswith("cli:")
    text = run("broadcasts").stdout
    assert "#1 " in text and "sent 1" in text and "(in progress)" in text


def test_deliveries_json_is_one_subscribers_audit(engine: sa.Engine) -> None:
    run("announce", "--en", "First", "--yes")
    run("announce", "--en", "ATMs only", "--component", "ATMs", "--yes")
    outbox = written(engine)
    for item in outbox.claim(["slack"], "test", limit=10):
        if item.conversation_id == "slack:T1:U1":
            if item.broadcast_id == 1:
                outbox.sent(item.id)
            else:
                outbox.retired(item.id, "recipient gone: account_inactive")

    result = run("deliveries", "slack:T1:U1", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["conversation_id"] == "slack:T1:U1"
    assert doc["subscription"]["active"] is True
    assert doc["subscription"]["components"] == ["atms"]
    first, second = doc["deliveries"][1], doc["deliveries"][0]  # newest first
    assert (first["broadcast_id"], first["state"], first["kind"]) == (1, "sent", "announcement")
    assert first["sent_at"] and "First" in first["text"]
    assert (second["broadcast_id"], second["state"]) == (2, "retired")
    assert second["error"] == "recipient gone: account_inactive" and second["sent_at"] is None

    none = json.loads(run("deliveries", "web:nobody", "--json").stdout)
    assert none == {"conversation_id": "web:nobody", "subscription": None, "deliveries": []}
    text = run("deliveries", "slack:T1:U1").stdout
    assert text.startswith("slack:T1:U1: active, en, atms")
    assert "#2 announcement" in text and "retired (recipient gone: account_inactive)" in text


def test_the_running_app_delivers_what_the_cli_wrote(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app import create_app
    from bot.settings import Settings
    from bot.wiring import build_services
    from faq_index import load_encoder

    monkeypatch.setenv("FARO_FAQ", str(write_seed(tmp_path)))
    monkeypatch.setenv("FARO_RASA_URL", "http://127.0.0.1:9")
    services = build_services(Settings.from_env(), encoder=load_encoder("hashing"))
    subscribe(SubscriptionStore(services.store.engine), [("web:s-9", "es", ())])
    try:
        with TestClient(create_app(services)):  # the lifespan starts the delivery worker
            result = run("announce", "--es", "Hoy cerramos a las 15.", "--yes")
            assert result.exit_code == 0, result.output
            outbox = Outbox(services.store.engine)
            deadline = time.monotonic() + 10
            while True:
                [mine] = [p for p in outbox.progress() if p.kind == "announcement"]
                if mine.counts.get("sent", 0) == 1:
                    break
                assert time.monotonic() < deadline, mine.counts
                time.sleep(0.1)
        [row] = outbox.audit(conversation_id="web:s-9")
        assert row.state == "sent" and "Hoy cerramos a las 15." in row.text
    finally:
        services.store.dispose()
