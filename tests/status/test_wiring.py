"""build_status: what the app calls to get the service, its background task and routes."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.http import EXCEPTION_HANDLERS
from bot.settings import Settings
from bot.status.wiring import DEFAULT_FEED, build_runtime
from bot.templates import TemplateStore
from bot.wiring import build_status
from tests.helpers.status_builders import SAMPLE_FEED, fixture

TOKEN = "wiring-token-0123456789"


def settings_for(tmp_path: Path, feed: Path | str, **env: str) -> Settings:
    base = {"FARO_PROJECT_DIR": str(tmp_path), "FARO_DATA_DIR": str(tmp_path / "data")}
    return Settings.from_env({**base, "FARO_STATUS_FEED": str(feed), **env})


def test_default_feed_is_the_sample() -> None:
    assert DEFAULT_FEED == SAMPLE_FEED


async def test_build_status_polls_and_persists(tmp_path: Path, templates: TemplateStore) -> None:
    runtime = build_status(settings_for(tmp_path, SAMPLE_FEED), templates)
    service = runtime.service
    assert runtime.routes == []  # no token, no webhook receiver
    assert "can't reach" in service.status_reply("is it down?", "en").text
    assert await runtime.poller.poll_once()
    assert "card payments are being declined" in service.status_reply("is it down?", "en").text
    assert (tmp_path / "data" / "state" / "status.json").exists()
    # A restart with the feed gone serves the saved state at once.
    again = build_status(settings_for(tmp_path, tmp_path / "missing.json"), templates).service
    assert "card payments are being declined" in again.status_reply("is it down?", "en").text


async def test_start_and_stop(tmp_path: Path, templates: TemplateStore) -> None:
    runtime = build_runtime(feed=SAMPLE_FEED, templates=templates, poll_interval_s=60)
    await runtime.start()
    await runtime.stop()


def test_webhook_route_with_a_token(tmp_path: Path, templates: TemplateStore) -> None:
    settings = settings_for(tmp_path, SAMPLE_FEED, FARO_STATUS_WEBHOOK_TOKEN=TOKEN)
    runtime = build_status(settings, templates)
    service = runtime.service
    http = TestClient(Starlette(routes=runtime.routes, exception_handlers=EXCEPTION_HANDLERS))
    assert http.post("/status/webhook/nope", json={}).status_code == 403
    delivered = http.post(
        f"/status/webhook/{TOKEN}", json=fixture("webhooks", "incident_created.json")
    )
    assert delivered.status_code == 200
    assert "Database query delays" in service.status_reply("is it down?", "en").text


async def test_the_status_timezone_setting_reaches_the_answers(
    tmp_path: Path, templates: TemplateStore
) -> None:
    # Before: the wiring looked up a setting that did not exist, so times were always UTC.
    utc = build_status(settings_for(tmp_path / "a", SAMPLE_FEED), templates)
    madrid = build_status(
        settings_for(tmp_path / "b", SAMPLE_FEED, FARO_STATUS_TIMEZONE="Europe/Madrid"), templates
    )
    for runtime in (utc, madrid):
        assert await runtime.poller.poll_once()
    assert str(utc.service.writer.tz) == "UTC"
    assert str(madrid.service.writer.tz) == "Europe/Madrid"
    said_utc = utc.service.status_reply("is it down?", "en").text
    said_madrid = madrid.service.status_reply("is it down?", "en").text
    assert said_utc != said_madrid  # the "as of" time is shown in the configured zone
