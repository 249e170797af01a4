"""Snapshots survive the trip to JSON and back."""

from __future__ import annotations

import json

import pytest

from bot.status.codec import snapshot_from_dict, snapshot_to_dict
from bot.status.errors import FeedFormatError
from bot.status.statuspage import loads, parse_document
from tests.helpers.status_builders import FIXTURES, SAMPLE_FEED, fixture

ALL = sorted(p.name for p in (FIXTURES / "incidents").glob("*.json"))


@pytest.mark.parametrize("name", ALL)
def test_round_trip_every_fixture(name: str) -> None:
    snap = parse_document(fixture("incidents", name))
    text = json.dumps(snapshot_to_dict(snap))
    assert snapshot_from_dict(json.loads(text)) == snap


def test_round_trip_the_sample() -> None:
    snap = loads(SAMPLE_FEED.read_bytes())
    assert snapshot_from_dict(snapshot_to_dict(snap)) == snap


def test_dict_has_what_the_cli_promises() -> None:
    data = snapshot_to_dict(loads(SAMPLE_FEED.read_bytes()))
    inc = data["incidents"][0]
    assert {"id", "name", "status", "impact", "updates"} <= inc.keys()
    assert inc["updates"][0]["body"].startswith("We have found the cause")
    assert data["as_of"].endswith("Z")


def test_bad_saved_state_raises_format_error() -> None:
    with pytest.raises(FeedFormatError):
        snapshot_from_dict({"incidents": [{"no": "id"}]})
