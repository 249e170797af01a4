"""Statuspage v2 JSON: every recorded payload and every endpoint shape parse into the model."""

from __future__ import annotations

import json
import logging

import pytest

from bot.status.errors import FeedFormatError
from bot.status.model import (
    ComponentStatus,
    Impact,
    IncidentStatus,
    PageIndicator,
)
from bot.status.statuspage import loads, merge, parse_document
from tests.helpers.status_builders import (
    FIXTURES,
    SAMPLE_FEED,
    T0,
    component,
    fixture,
    incident,
    summary,
    update,
)

INCIDENT_FILES = sorted(p.name for p in (FIXTURES / "incidents").glob("*.json"))
WEBHOOK_FILES = sorted(p.name for p in (FIXTURES / "webhooks").glob("*.json"))


def test_fixtures_are_present() -> None:
    assert len(INCIDENT_FILES) == 11 and len(WEBHOOK_FILES) == 3


@pytest.mark.parametrize("name", INCIDENT_FILES)
def test_every_recorded_incident_parses(name: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    raw = fixture("incidents", name)
    snap = parse_document(raw)
    assert snap.page.name == "GitHub" and snap.page.time_zone == "Etc/UTC"
    (inc,) = snap.incidents
    src = raw["incident"]
    assert inc.id == src["id"] and inc.name == src["name"]
    assert inc.status.value == src["status"] and inc.impact.value == src["impact"]
    assert inc.status is not IncidentStatus.UNKNOWN and inc.impact is not Impact.UNKNOWN
    assert len(inc.updates) == len(src["incident_updates"])
    stamps = [u.display_at for u in inc.updates if u.display_at is not None]
    assert len(stamps) == len(inc.updates)
    assert stamps == sorted(stamps, reverse=True)  # newest first
    assert {u.body for u in inc.updates} == {u["body"] for u in src["incident_updates"]}
    assert inc.created_at is not None and inc.resolved_at is not None
    assert not inc.is_open and not inc.is_maintenance
    assert not caplog.records  # real payloads: nothing unknown, nothing unreadable


@pytest.mark.parametrize("name", WEBHOOK_FILES)
def test_every_recorded_webhook_parses_as_a_document(name: str) -> None:
    snap = parse_document(fixture("webhooks", name))
    assert snap.indicator in (PageIndicator.NONE, PageIndicator.MAINTENANCE)
    if name.startswith("incident"):
        (inc,) = snap.incidents
        assert inc.id == "z3lct0r596n4" and inc.updates[0].affected[0].name.startswith("Management")


def test_affected_components_null_or_listed() -> None:
    snap = parse_document(fixture("incidents", "rgy28jwprr1c.json"))
    phases = [u.status for u in snap.incidents[0].updates]
    assert phases == [
        IncidentStatus.RESOLVED,
        IncidentStatus.MONITORING,
        IncidentStatus.IDENTIFIED,
        IncidentStatus.INVESTIGATING,
    ]
    first = snap.incidents[0].updates[-1].affected[0]
    assert (first.name, first.new_status) == ("Notifications", ComponentStatus.MAJOR_OUTAGE)
    nulls = parse_document(fixture("incidents", "f0mhbz9xn497.json")).incidents[0].updates[0]
    assert nulls.affected == ()


def test_bodies_keep_newlines_and_urls() -> None:
    inc = parse_document(fixture("incidents", "gqx5l06jjxhp.json")).incidents[0]
    assert "\n" in inc.updates[0].body


def test_the_sample_feed_is_a_summary() -> None:
    snap = loads(SAMPLE_FEED.read_bytes())
    assert snap.page.name == "Northwind Bank"
    assert snap.indicator is PageIndicator.MAJOR
    names = [c.name for c in snap.leaf_components()]
    assert names == [
        "Card payments",
        "Payments API",
        "Transfers",
        "Mobile app",
        "Online banking",
        "ATMs",
    ]
    (open_,) = snap.open_incidents()
    assert open_.status is IncidentStatus.IDENTIFIED and "Card payments" in open_.affected_names()
    (maint,) = snap.maintenances
    assert (
        maint.status is IncidentStatus.SCHEDULED and maint.scheduled_for and maint.scheduled_until
    )


def test_endpoint_shapes() -> None:
    inc = incident(update("investigating", "x", T0))
    page = summary()["page"]
    assert (
        parse_document(
            {"page": page, "status": {"indicator": "minor", "description": "d"}}
        ).indicator
        is PageIndicator.MINOR
    )
    comps = parse_document({"page": page, "components": [component("ATMs", "major_outage")]})
    assert comps.components[0].status is ComponentStatus.MAJOR_OUTAGE
    listed = parse_document({"page": page, "incidents": [inc]})
    assert [i.id for i in listed.incidents] == ["inc1"]
    maint = incident(
        update("in_progress", "working", T0),
        iid="m1",
        scheduled_for="2026-03-02T08:00:00Z",
        scheduled_until="2026-03-02T10:00:00-08:00",
    )
    maints = parse_document({"page": page, "scheduled_maintenances": [maint]})
    (m,) = maints.maintenances
    assert m.is_maintenance and m.status is IncidentStatus.IN_PROGRESS
    assert m.scheduled_until is not None and m.scheduled_until.hour == 18


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<!DOCTYPE html><html><body>Bad gateway</body></html>", "HTML, not JSON"),
        (b'{"page": {"id": "x"}, "incidents": [{"id": "a", "na', "invalid JSON"),
        (b"", "invalid JSON"),
        (b"[1, 2, 3]", "not a Statuspage document"),
        (b'{"hello": "world"}', "not a Statuspage document"),
        (b'{"incidents": "nope"}', "not a list of objects"),
        (b'{"incidents": [{"name": "no id"}]}', "without an id"),
        (b'{"components": [{"name": "x", "position": "first"}]}', "unexpected structure"),
        (b"\xff\xfe\x00garbage", "invalid JSON"),
    ],
)
def test_bad_documents_raise_one_clear_error(raw: bytes, message: str) -> None:
    with pytest.raises(FeedFormatError, match=message) as caught:
        loads(raw)
    assert "\n" not in str(caught.value)


def test_unknown_enums_parse_as_unknown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    doc = summary(
        components=[component("ATMs", "on_fire_xyz")],
        incidents=[incident(update("panicking_xyz", "x", T0), impact="catastrophic_xyz")],
        indicator="purple_xyz",
    )
    snap = parse_document(doc)
    assert snap.indicator is PageIndicator.UNKNOWN
    assert snap.components[0].status is ComponentStatus.UNKNOWN
    inc = snap.incidents[0]
    assert inc.status is IncidentStatus.UNKNOWN and inc.impact is Impact.UNKNOWN and inc.is_open
    assert len(caplog.records) == 4  # one line per unknown value
    assert all("unknown" in r.getMessage() for r in caplog.records)


def test_odd_timezones_in_one_document() -> None:
    inc = incident(update("investigating", "x", T0))
    inc["created_at"] = "2026-03-02T01:00:00-08:00"
    inc["updated_at"] = "2026-03-02T09:00:00.123456789+00:00"
    inc["started_at"] = "2026-03-02 09:00:00"
    inc["incident_updates"][0]["display_at"] = "2026-03-02T10:00:00+0100"
    doc = summary(incidents=[inc])
    doc["page"]["time_zone"] = "America/Los_Angeles"
    parsed = parse_document(doc).incidents[0]
    assert parsed.created_at == T0
    assert parsed.updated_at is not None and parsed.updated_at.replace(microsecond=0) == T0
    assert parsed.started_at is not None and parsed.started_at.hour == 17  # page zone, PST
    assert parsed.updates[0].display_at == T0


def test_unreadable_time_is_none_not_a_crash() -> None:
    inc = incident(update("investigating", "x", T0))
    inc["updated_at"] = "the day before yesterday"
    assert parse_document(summary(incidents=[inc])).incidents[0].updated_at is None


def test_merge_keeps_the_newest_copy_and_page_fields() -> None:
    older = incident(update("investigating", "a", T0), iid="x")
    newer = incident(
        update("resolved", "b", T0.replace(hour=11)), update("investigating", "a", T0), iid="x"
    )
    summary_doc = summary(incidents=[older], indicator="major", components=[component("ATMs")])
    merged = merge(
        [
            parse_document(summary_doc),
            parse_document({"page": summary_doc["page"], "incidents": [newer]}),
        ]
    )
    assert merged.indicator is PageIndicator.MAJOR and merged.components[0].name == "ATMs"
    (inc,) = merged.incidents
    assert inc.status is IncidentStatus.RESOLVED


def test_json_text_round_trip_of_a_fixture() -> None:
    raw = json.dumps(fixture("incidents", "b40k7ckrs7sp.json")).encode()
    assert loads(raw).incidents[0].name == "Incident with GitHub Packages and GitHub Pages"
