"""The webhook receiver: secret path token, 403 for forgeries, 400 for garbage."""

from __future__ import annotations

import json
import logging

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.http import EXCEPTION_HANDLERS
from bot.status.live import LiveStatus
from bot.status.receiver import TokenRedactingFilter, webhook_route
from tests.helpers.status_builders import FakeClock, fixture, snapshot, summary

TOKEN = "s3cret-token-0123456789abcdef"


@pytest.fixture
def live() -> LiveStatus:
    status = LiveStatus(clock=FakeClock())
    status.accept(snapshot(summary()))
    return status


@pytest.fixture
def http(live: LiveStatus) -> TestClient:
    return TestClient(
        Starlette(routes=[webhook_route(live, token=TOKEN)], exception_handlers=EXCEPTION_HANDLERS)
    )


def test_right_token_applies_the_delivery(http: TestClient, live: LiveStatus) -> None:
    response = http.post(
        f"/status/webhook/{TOKEN}", json=fixture("webhooks", "incident_created.json")
    )
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert live.snapshot is not None and live.snapshot.open_incidents()[0].id == "z3lct0r596n4"


@pytest.mark.parametrize("token", ["wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "%00"])
def test_forged_webhook_is_refused_and_changes_nothing(
    http: TestClient, live: LiveStatus, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    before, confirmed = live.snapshot, live.confirmed_at
    response = http.post(
        f"/status/webhook/{token}", json=fixture("webhooks", "incident_created.json")
    )
    assert response.status_code == 403
    assert live.snapshot is before and live.confirmed_at == confirmed
    assert len(caplog.records) == 1 and "wrong token" in caplog.text
    assert TOKEN not in caplog.text
    if len(token) > 8:
        assert token not in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"meta": {}}',
        b'{"incident": {"name": "no id"}}',
        b'{"incident": {"id": "x", "incident_updates": 5}}',
    ],
)
def test_garbage_is_400_and_changes_nothing(
    http: TestClient, live: LiveStatus, body: bytes
) -> None:
    before = live.snapshot
    response = http.post(
        f"/status/webhook/{TOKEN}", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert live.snapshot is before


def test_oversized_body_is_refused(http: TestClient, live: LiveStatus) -> None:
    before = live.snapshot
    huge = json.dumps({"incident": {"id": "x", "body": "a" * 1_100_000}})
    response = http.post(f"/status/webhook/{TOKEN}", content=huge)
    assert response.status_code == 413 and live.snapshot is before


def test_only_post(http: TestClient) -> None:
    assert http.get(f"/status/webhook/{TOKEN}").status_code == 405


def test_weak_tokens_and_bad_paths_are_refused_at_start(live: LiveStatus) -> None:
    with pytest.raises(ValueError, match="at least"):
        webhook_route(live, token="short")
    with pytest.raises(ValueError, match="token"):
        webhook_route(live, token=TOKEN, path="/status/webhook")


def test_token_redacting_filter() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s"',
        ("127.0.0.1", "POST", f"/status/webhook/{TOKEN}"),
        None,
    )
    assert TokenRedactingFilter(TOKEN).filter(record)
    assert TOKEN not in record.getMessage() and "<token>" in record.getMessage()
