"""Statuspage webhook deliveries applied onto the last snapshot."""

from __future__ import annotations

import json

import pytest

from bot.status.errors import WebhookError
from bot.status.model import ComponentStatus, IncidentStatus, PageIndicator
from bot.status.statuspage import loads
from bot.status.webhooks import apply_webhook, loads_webhook
from tests.helpers.status_builders import SAMPLE_FEED, T0, fixture

NOW = T0


def test_incident_created_on_an_empty_state() -> None:
    snap = apply_webhook(None, fixture("webhooks", "incident_created.json"), received_at=NOW)
    (inc,) = snap.incidents
    assert inc.id == "z3lct0r596n4" and inc.status is IncidentStatus.IDENTIFIED and inc.is_open
    assert snap.indicator is PageIndicator.NONE
    assert snap.fetched_at == NOW
    assert snap.as_of is not None and snap.as_of.year == 2017
    assert [c.name for c in snap.components] == ["Management Portal (example)"]


def test_incident_update_replaces_the_same_incident() -> None:
    created = apply_webhook(None, fixture("webhooks", "incident_created.json"), received_at=NOW)
    resolved = apply_webhook(created, fixture("webhooks", "incident_update.json"), received_at=NOW)
    (inc,) = resolved.incidents
    assert inc.status is IncidentStatus.RESOLVED and len(inc.updates) == 2
    assert inc.updates[0].body == "The database issue is resolved."


def test_incidents_apply_onto_a_polled_snapshot() -> None:
    base = loads(SAMPLE_FEED.read_bytes())
    snap = apply_webhook(base, fixture("webhooks", "incident_created.json"), received_at=NOW)
    assert {i.id for i in snap.incidents} == {"nw7k2x9card1", "z3lct0r596n4"}
    assert len(snap.components) == len(base.components) + 1
    assert snap.page == base.page and snap.maintenances == base.maintenances


def test_component_update_changes_one_component() -> None:
    created = apply_webhook(None, fixture("webhooks", "incident_created.json"), received_at=NOW)
    snap = apply_webhook(
        created, fixture("webhooks", "component_status_update.json"), received_at=NOW
    )
    db = next(c for c in snap.components if c.name == "Database component")
    assert db.status is ComponentStatus.UNDER_MAINTENANCE
    assert snap.indicator is PageIndicator.MAINTENANCE
    assert snap.incidents == created.incidents


def test_component_update_of_a_known_component() -> None:
    base = loads(SAMPLE_FEED.read_bytes())
    payload = {
        "page": {"id": "nwbk7status01", "status_indicator": "minor", "status_description": "Minor"},
        "component": {"id": "4tms0k000001", "name": "ATMs", "status": "operational"},
        "component_update": {"old_status": "operational", "new_status": "partial_outage"},
    }
    snap = apply_webhook(base, payload, received_at=NOW)
    assert snap.component("ATMs") is not None
    assert snap.component("ATMs").status is ComponentStatus.PARTIAL_OUTAGE  # type: ignore[union-attr]
    assert len(snap.components) == len(base.components)


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[]", b'"x"', b'{"meta": {}}', b'{"incident": "x"}', b"\xff\xfe"],
)
def test_garbage_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(WebhookError):
        loads_webhook(raw)


def test_unusable_incident_changes_nothing() -> None:
    base = loads(SAMPLE_FEED.read_bytes())
    with pytest.raises(WebhookError):
        apply_webhook(base, {"incident": {"name": "no id"}}, received_at=NOW)
    with pytest.raises(WebhookError):
        apply_webhook(base, {"incident": {"id": "x", "incident_updates": "bad"}}, received_at=NOW)


def test_loads_accepts_recorded_deliveries() -> None:
    for name in ("incident_created.json", "incident_update.json", "component_status_update.json"):
        payload = loads_webhook(json.dumps(fixture("webhooks", name)).encode())
        assert "page" in payload
