"""End to end: ``faro drill run`` on a recorded real incident, at speed, through the real Rasa
server, with simulated customers; the report; a real Telegram subscriber receives nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.broadcast.subscriptions import SubscriptionStore, recipient_for
from bot.broadcast.tables import outbox
from bot.db import Database
from bot.stack import ROOT
from tests.channels.telegram.conftest import SECRET
from tests.helpers.telegram_fake import TOKEN, FakeBotApi

pytestmark = pytest.mark.e2e

FIXTURE = ROOT / "tests/status/fixtures/incidents/rgy28jwprr1c.json"
QUESTIONS = [
    {"text": "notify me of updates", "lang": "en"},
    {"text": "is the service down?", "lang": "en"},
    {"text": "¿está caído el servicio?", "lang": "es"},
    {"text": "what is the airspeed velocity of an unladen swallow?", "lang": "en"},
    {"text": "I want to talk to a person", "lang": "en"},
    {"text": "when will it be fixed?", "lang": "en"},
]


def test_a_drill_replays_a_real_incident_and_reaches_no_real_subscriber(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real_db = Database.open(f"sqlite:///{real_dir / 'faro.db'}")
    recipient = recipient_for("telegram:4242", "en")
    assert recipient is not None
    SubscriptionStore(real_db.engine).subscribe(recipient)  # a real subscriber, to everything
    real_db.engine.dispose()
    questions = tmp_path / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS))
    drill_dir = tmp_path / "drill"
    with FakeBotApi().running() as telegram:
        env = {
            **os.environ,
            "FARO_PROJECT_DIR": str(ROOT),
            "FARO_DATA_DIR": str(real_dir),  # the production configuration, Telegram on
            "FARO_TELEGRAM_TOKEN": TOKEN,
            "FARO_TELEGRAM_SECRET": SECRET,
            "FARO_TELEGRAM_API_URL": telegram.url,
            # the team's rhythm for critical incidents: an update every 5 minutes; the
            # recorded incident waited 10 (16:12 -> 16:22): late in drill time at x60
            "FARO_RHYTHM_CRITICAL_MINUTES": "5",
        }
        command = [sys.executable, "-m", "bot.cli.main", "drill", "run", str(FIXTURE)]
        command += ["--speed", "60", "--questions", str(questions), "--json"]
        command += ["--keep", str(drill_dir)]
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert telegram.calls == []  # not a getMe, not a sendMessage: Telegram was off
    report = json.loads(done.stdout)
    for key in ("questions", "answered", "declined", "handed_off", "broadcasts"):
        assert isinstance(report[key], int), key
    assert "first_staff_change_s" in report and report["first_staff_change_s"] is None
    assert report["questions"] == len(QUESTIONS)
    assert report["failed"] == 0
    assert report["declined"] >= 1  # the swallow
    assert report["handed_off"] >= 1  # the person
    assert report["answered"] + report["declined"] + report["handed_off"] == len(QUESTIONS)
    assert report["updates_replayed"] == 4
    # the overdue alert came in drill time: 5 min + 2 min grace at x60 = 7 s after the start
    # (the next recorded update came at 10 s), well before the 25 s drill ended
    late = [a for a in report["staff_alerts"] if a["kind"] == "overdue_update"]
    assert late, report["staff_alerts"]
    assert 6.5 <= late[0]["after_s"] <= 10.5, late
    assert report["replies"] > 0 and report["marked"] == report["replies"]
    outcomes = {t["question"]: t for t in report["transcript"]}
    spanish = outcomes["¿está caído el servicio?"]["replies"]
    assert spanish[0].startswith("[SIMULACRO")
    # the drill customer who subscribed got the later updates, in the drill's own database
    assert report["broadcasts"] >= 1 and report["broadcast_reach"] >= 1
    assert (drill_dir / "faro.db").exists()
    real = Database.open(f"sqlite:///{real_dir / 'faro.db'}")
    try:
        with real.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one() == 0
    finally:
        real.engine.dispose()
    drill_db = Database.open(f"sqlite:///{drill_dir / 'faro.db'}")
    try:
        with drill_db.engine.connect() as conn:
            texts = conn.execute(sa.select(outbox.c.text)).scalars().all()
        assert texts and all(t.startswith(("[DRILL", "[SIMULACRO")) for t in texts)  # marked too
    finally:
        drill_db.engine.dispose()
