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


# --- issue 19: ordering by the payload's own timestamps ---------------------------------


def _incident(status: str, updated_at: str, *, indicator: str, generated_at: str) -> dict:
    return {
        "meta": {"generated_at": generated_at},
        "page": {"id": "p", "status_indicator": indicator, "status_description": indicator},
        "incident": {
            "id": "inc-late-1",
            "name": "Card payments failing",
            "status": status,
            "impact": "major",
            "created_at": "2026-12-05T09:00:00Z",
            "updated_at": updated_at,
            "incident_updates": [
                {
                    "id": f"u-{status}",
                    "status": status,
                    "body": f"now {status}",
                    "created_at": updated_at,
                    "updated_at": updated_at,
                }
            ],
            "components": [
                {
                    "id": "cards",
                    "name": "Cards",
                    "status": "operational" if status == "resolved" else "major_outage",
                    "updated_at": updated_at,
                }
            ],
        },
    }


def _component(status: str, at: str) -> dict:
    return {
        "component": {"id": "atm", "name": "ATMs", "status": status, "updated_at": at},
        "component_update": {"created_at": at, "new_status": status},
    }


def test_a_late_older_incident_delivery_does_not_overwrite_newer_state() -> None:
    # The finding: a webhook delivered late overwrote newer state.
    newer = _incident(
        "resolved", "2026-12-05T10:30:00Z", indicator="none", generated_at="2026-12-05T10:30:01Z"
    )
    older = _incident(
        "identified", "2026-12-05T10:00:00Z", indicator="major", generated_at="2026-12-05T10:00:01Z"
    )
    snap = apply_webhook(None, newer, received_at=NOW)
    late = apply_webhook(snap, older, received_at=NOW)
    (inc,) = late.incidents
    assert inc.status is IncidentStatus.RESOLVED
    assert late.component("Cards").status is ComponentStatus.OPERATIONAL  # type: ignore[union-attr]
    assert late.indicator is PageIndicator.NONE
    # in order, both apply
    in_order = apply_webhook(apply_webhook(None, older, received_at=NOW), newer, received_at=NOW)
    assert in_order.incidents[0].status is IncidentStatus.RESOLVED


def test_a_late_older_component_delivery_does_not_overwrite_newer_state() -> None:
    snap = apply_webhook(None, _component("operational", "2026-12-05T10:30:00Z"), received_at=NOW)
    late = apply_webhook(snap, _component("major_outage", "2026-12-05T10:00:00Z"), received_at=NOW)
    assert late.component("ATMs").status is ComponentStatus.OPERATIONAL  # type: ignore[union-attr]
    newer = apply_webhook(
        late, _component("partial_outage", "2026-12-05T10:31:00Z"), received_at=NOW
    )
    assert newer.component("ATMs").status is ComponentStatus.PARTIAL_OUTAGE  # type: ignore[union-attr]
