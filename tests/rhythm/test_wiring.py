"""The crisis rhythm wired into the real app: settings, the guard on a timer, Slack, the console."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings, SettingsError
from bot.wiring import build_services
from faq_index import load_encoder
from tests.faq_store.builders import sqlite_url, write_seed
from tests.helpers.slack_fake import BOT_TOKEN, running_slack_api
from tests.helpers.status_builders import component, incident, summary, update

REPO = Path(__file__).resolve().parents[2]
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "FARO_PROJECT_DIR": str(REPO),
        "FARO_DATA_DIR": str(tmp_path / "data"),
        "FARO_DATABASE_URL": sqlite_url(tmp_path),
        "FARO_FAQ": str(write_seed(tmp_path)),
        "FARO_RASA_URL": "http://127.0.0.1:9",
        **extra,
    }


def test_rhythm_settings_are_read_and_checked(tmp_path: Path) -> None:
    settings = Settings.from_env(
        _env(tmp_path, FARO_RHYTHM_MAJOR_MINUTES="15", FARO_RHYTHM_MINOR_MINUTES="0")
    )
    assert (settings.rhythm.major_minutes, settings.rhythm.minor_minutes) == (15, 0)
    assert settings.rhythm.surge_min_count == 20 and settings.drill.on is False
    with pytest.raises(SettingsError, match="FARO_RHYTHM_MAJOR_MINUTES"):
        Settings.from_env(_env(tmp_path, FARO_RHYTHM_MAJOR_MINUTES="half an hour"))
    with pytest.raises(SettingsError, match="FARO_STAFF_ALERT_WEBHOOK_URL"):
        Settings.from_env(_env(tmp_path, FARO_STAFF_ALERT_WEBHOOK_URL="ftp://x"))
    settings = Settings.from_env(_env(tmp_path, FARO_STAFF_ALERT_WEBHOOK_URL="https://h.example"))
    assert "h.example" not in repr(settings)


def test_a_late_update_and_a_new_handoff_reach_the_slack_staff_channel(tmp_path: Path) -> None:
    posted = datetime.now(UTC) - timedelta(minutes=40)
    feed = tmp_path / "feed.json"
    body = f"We are investigating. Next update by {posted + timedelta(minutes=20):%H:%M} UTC."
    doc = summary(
        components=[component("Card payments", "major_outage")],
        incidents=[incident(update("investigating", body, posted), impact="minor")],
        updated=posted,
    )
    feed.write_text(json.dumps(doc))
    with running_slack_api() as slack:
        env = _env(
            tmp_path,
            FARO_STATUS_FEED=str(feed),
            FARO_RHYTHM_CHECK_INTERVAL="0.2",
            FARO_SLACK_BOT_TOKEN=BOT_TOKEN,
            FARO_SLACK_API_URL=slack.url,
            FARO_SLACK_STAFF_CHANNEL="C0STAFF",
            FARO_ADMIN_PASSWORD="pw",
        )
        services = build_services(Settings.from_env(env), encoder=load_encoder("hashing"))
        assert services.rhythm is not None
        with TestClient(create_app(services)) as client:
            [call] = slack.wait_for("chat.postMessage", timeout_s=20)
            assert call.body["channel"] == "C0STAFF"
            assert "Update overdue: Card payments failing" in str(call.body["text"])
            token = _CSRF.search(client.get("/admin/login").text)
            assert token
            client.post(
                "/admin/login", data={"csrf": token.group(1), "name": "Ana", "password": "pw"}
            )
            page = client.get("/admin").text
            assert "Needs attention now" in page and "Update overdue" in page
            time.sleep(0.5)
            assert len(slack.of("chat.postMessage")) == 1  # once, not once per check
            answer = services.status.status_reply("is it down?", "en").text
            assert "is late. We have reminded our team" in answer
            # a new handoff is told to the same staff channel, once
            assert services.handoffs is not None
            said = [("user", "where is my money", datetime.now(UTC))]
            services.handoffs.request("web:wired", "web", "en", said)
            _, told = slack.wait_for("chat.postMessage", count=2, timeout_s=20)
            assert told.body["channel"] == "C0STAFF"
            assert "web, en" in told.body["text"] and "where is my money" in told.body["text"]
            assert "/admin/inbox" in told.body["text"] and "wired" not in told.body["text"]
        services.store.dispose()
