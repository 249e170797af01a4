"""build_status: what the app calls to get the service, its background task and routes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.http import EXCEPTION_HANDLERS
from bot.status.wiring import DEFAULT_FEED, build_runtime, build_status
from bot.templates import TemplateStore
from tests.helpers.status_builders import SAMPLE_FEED, fixture

TOKEN = "wiring-token-0123456789"


@dataclass(frozen=True)
class Settings:
    status_feed: str
    state_dir: Path
    status_poll_interval_s: float = 30.0
    status_webhook_token: str | None = None


def test_default_feed_is_the_sample() -> None:
    assert DEFAULT_FEED == SAMPLE_FEED


async def test_build_status_polls_and_persists(tmp_path: Path, templates: TemplateStore) -> None:
    settings = Settings(status_feed=str(SAMPLE_FEED), state_dir=tmp_path / "state")
    service, background, routes = build_status(settings, templates)
    assert routes == []  # no token, no webhook receiver
    (runtime,) = background
    assert "can't reach" in service.status_reply("is it down?", "en").text
    assert await runtime.poller.poll_once()
    assert "card payments are being declined" in service.status_reply("is it down?", "en").text
    assert (tmp_path / "state" / "status.json").exists()
    # A restart with the feed gone serves the saved state at once.
    gone = Settings(status_feed=str(tmp_path / "missing.json"), state_dir=tmp_path / "state")
    again, _, _ = build_status(gone, templates)
    assert "card payments are being declined" in again.status_reply("is it down?", "en").text


async def test_start_and_stop(tmp_path: Path, templates: TemplateStore) -> None:
    runtime = build_runtime(feed=SAMPLE_FEED, templates=templates, poll_interval_s=60)
    await runtime.start()
    await runtime.stop()


def test_webhook_route_with_a_token(tmp_path: Path, templates: TemplateStore) -> None:
    settings = Settings(
        status_feed=str(SAMPLE_FEED), state_dir=tmp_path, status_webhook_token=TOKEN
    )
    service, _, routes = build_status(settings, templates)
    http = TestClient(Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS))
    assert http.post("/status/webhook/nope", json={}).status_code == 403
    delivered = http.post(
        f"/status/webhook/{TOKEN}", json=fixture("webhooks", "incident_created.json")
    )
    assert delivered.status_code == 200
    assert "Database query delays" in service.status_reply("is it down?", "en").text
