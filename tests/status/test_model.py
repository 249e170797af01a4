"""The normalized model: enums that never crash, incident helpers."""

from __future__ import annotations

import logging

import pytest

from bot.status.model import ComponentStatus, IncidentStatus, PageIndicator, coerce
from tests.helpers.status_builders import T0, component, incident, snapshot, summary, update


def test_known_values_map(caplog: pytest.LogCaptureFixture) -> None:
    assert coerce(ComponentStatus, "major_outage", what="x") is ComponentStatus.MAJOR_OUTAGE
    assert coerce(IncidentStatus, "In Progress", what="x") is IncidentStatus.IN_PROGRESS
    assert not caplog.records


def test_unknown_value_is_unknown_and_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert coerce(PageIndicator, "apocalyptic-1", what="page indicator") is PageIndicator.UNKNOWN
    assert coerce(PageIndicator, "apocalyptic-1", what="page indicator") is PageIndicator.UNKNOWN
    assert len(caplog.records) == 1  # once per value, not every poll
    assert "apocalyptic-1" in caplog.records[0].getMessage()


@pytest.mark.parametrize("value", [None, 3, "", ["x"]])
def test_odd_types_never_crash(value: object) -> None:
    assert coerce(ComponentStatus, value, what="odd") is ComponentStatus.UNKNOWN


def test_open_incidents_newest_first_and_resolved_apart() -> None:
    early = incident(update("investigating", "a", T0), iid="early")
    late = incident(update("identified", "b", T0.replace(hour=10)), iid="late")
    done = incident(update("resolved", "c", T0.replace(hour=11)), iid="done")
    snap = snapshot(summary(incidents=[early, done, late]))
    assert [i.id for i in snap.open_incidents()] == ["late", "early"]
    assert [i.id for i in snap.resolved_incidents()] == ["done"]


def test_affected_names_from_components_and_updates() -> None:
    inc = incident(
        update(
            "identified",
            "b",
            T0.replace(hour=10),
            affected=[("Transfers", "operational", "degraded_performance")],
        ),
        update(
            "investigating", "a", T0, affected=[("Card payments", "operational", "major_outage")]
        ),
        components=[component("ATMs")],
    )
    parsed = snapshot(summary(incidents=[inc])).incidents[0]
    assert parsed.affected_names() == ("ATMs", "Transfers", "Card payments")
    assert parsed.latest_update is not None and parsed.latest_update.body == "b"


def test_leaf_components_skip_groups_and_keep_page_order() -> None:
    snap = snapshot(
        summary(
            components=[
                component("ATMs", position=3),
                component("Payments", position=1, group=True),
                component("Card payments", position=2, group_id="payments"),
            ]
        )
    )
    assert [c.name for c in snap.leaf_components()] == ["Card payments", "ATMs"]
    assert snap.component("ATMs") is not None and snap.component("atms") is None
