"""The web channel wired into the real app: sample page, widget files, push hub, banner."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from bot.app import create_app
from bot.channels.web_push import PushHub
from bot.core.messages import BotMessage
from bot.settings import Settings
from bot.status.sources import decode
from bot.wiring import build_services
from faq_index import load_encoder

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "status" / "sample.json"


def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "FARO_PROJECT_DIR": str(REPO),
            "FARO_DATA_DIR": str(tmp_path / "data"),
            "FARO_RASA_URL": "http://127.0.0.1:9",
            "FARO_STATUS_FEED": str(SAMPLE),
        }
    )


def test_app_serves_the_sample_site_widget_api_and_push(tmp_path: Path) -> None:
    services = build_services(settings(tmp_path), encoder=load_encoder("hashing"))
    try:
        client = TestClient(create_app(services))
        page = client.get("/")
        assert page.status_code == 200
        assert '<script src="/static/widget.js"' in page.text
        assert "chat.js" not in page.text  # the skeleton's chat box is gone
        js = client.get("/static/widget.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert client.get("/static/widget.css").status_code == 200
        token = client.post("/api/session").json()["session"]
        assert isinstance(client.app.state.web_push, PushHub)  # type: ignore[attr-defined]
        hub = client.app.state.web_push  # type: ignore[attr-defined]
        hub.publish("web:" + token.split(".")[0], BotMessage("pushed"))
        history = client.get("/api/history", params={"session": token}).json()
        assert [m["text"] for m in history["messages"]] == ["pushed"]
    finally:
        services.store.dispose()


def test_a_status_change_refreshes_the_banner_at_once(tmp_path: Path) -> None:
    services = build_services(settings(tmp_path), encoder=load_encoder("hashing"))
    try:
        client = TestClient(create_app(services))
        live = services.status.live
        assert client.get("/api/status-banner").json()["active"] is False  # nothing read yet
        live.accept(decode(SAMPLE.read_bytes(), fetched_at=datetime.now(UTC)))  # a first poll
        before = client.get("/api/status-banner", params={"lang": "es"}).json()
        assert before["active"] is True and before["phase"] == "identified"
        assert "hemos encontrado la causa" in before["text"]
        feed: dict[str, Any] = json.loads(SAMPLE.read_text())
        for incident in feed["incidents"]:
            incident["status"] = "monitoring"
        live.accept(decode(json.dumps(feed).encode(), fetched_at=datetime.now(UTC)))
        after = client.get("/api/status-banner", params={"lang": "es"}).json()
        assert after["phase"] == "monitoring"
        assert "comprobando que funciona" in after["text"]
    finally:
        services.store.dispose()
