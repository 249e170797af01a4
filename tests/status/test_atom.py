"""Atom and RSS: Statuspage's history feeds and generic status feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.status.atom import loads_feed
from bot.status.errors import FeedFormatError
from bot.status.model import IncidentStatus
from bot.status.statuspage import parse_document
from tests.helpers.status_builders import FIXTURES, fixture

ATOM = (FIXTURES / "atom" / "history.atom").read_bytes()


def test_statuspage_history_atom() -> None:
    snap = loads_feed(ATOM)
    assert snap.page.name == "GitHub Status - Incident History"
    assert snap.page.url == "https://www.githubstatus.com"
    assert snap.as_of == datetime(2019, 9, 23, 16, 37, 47, tzinfo=UTC)
    by_id = {i.id: i for i in snap.incidents}
    assert set(by_id) == {"rgy28jwprr1c", "open1234abcd"}
    done = by_id["rgy28jwprr1c"]
    assert done.status is IncidentStatus.RESOLVED and not done.is_open
    assert [u.status.value for u in done.updates] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    assert done.updates[-1].body == "We are investigating a delay in webhook delivery."
    assert done.updates[0].display_at == datetime(2019, 9, 23, 16, 37, tzinfo=UTC)
    assert done.shortlink == "https://www.githubstatus.com/incidents/rgy28jwprr1c"


def test_atom_matches_the_json_of_the_same_incident() -> None:
    from_json = parse_document(fixture("incidents", "rgy28jwprr1c.json")).incidents[0]
    from_atom = next(i for i in loads_feed(ATOM).incidents if i.id == from_json.id)
    assert [u.status for u in from_atom.updates] == [u.status for u in from_json.updates]
    assert [u.body for u in from_atom.updates] == [u.body for u in from_json.updates]


def test_update_label_keeps_the_phase_and_zones_convert() -> None:
    inc = next(i for i in loads_feed(ATOM).incidents if i.id == "open1234abcd")
    assert inc.is_open and inc.status is IncidentStatus.IDENTIFIED
    newest = inc.updates[0]
    assert newest.status is IncidentStatus.IDENTIFIED  # "Update" inherits
    assert newest.display_at == datetime(2019, 9, 23, 16, 30, tzinfo=UTC)  # 09:30 PDT
    assert newest.body == "Customers may see delays.\nWe expect a fix within 2 hours."
    assert inc.updates[1].body == "We found the cause & are fixing it."


def test_maintenance_entries() -> None:
    (maint,) = loads_feed(ATOM).maintenances
    assert maint.is_maintenance and maint.status is IncidentStatus.COMPLETED
    assert [u.status for u in maint.updates][-1] is IncidentStatus.SCHEDULED


def test_statuspage_rss() -> None:
    snap = loads_feed((FIXTURES / "atom" / "history.rss").read_bytes())
    (inc,) = snap.incidents
    assert inc.id == "nwcards01" and inc.status is IncidentStatus.INVESTIGATING
    assert inc.updates[0].display_at == datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


def test_generic_rss_reads_status_from_titles_and_drops_old_unknowns() -> None:
    snap = loads_feed((FIXTURES / "atom" / "generic.rss").read_bytes())
    by_id = {i.id: i for i in snap.incidents}
    assert set(by_id) == {"cloud-evt-2", "cloud-evt-3"}  # last year's notice is history
    assert by_id["cloud-evt-2"].status is IncidentStatus.RESOLVED
    latest = by_id["cloud-evt-3"]
    assert latest.status is IncidentStatus.UNKNOWN and latest.is_open
    assert latest.updates[0].body == "We are looking into elevated latency."


def test_year_rollover_in_update_headers() -> None:
    feed = ATOM.replace(
        b'2019-09-23T16:37:47Z</updated>\n    <link rel="alternate" type="text/html" href="https://www.githubstatus.com/incidents/rgy',
        b'2020-01-01T00:10:00Z</updated>\n    <link rel="alternate" type="text/html" href="https://www.githubstatus.com/incidents/rgy',
    )
    inc = next(i for i in loads_feed(feed).incidents if i.id == "rgy28jwprr1c")
    assert inc.updates[0].display_at is not None and inc.updates[0].display_at.year == 2019


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html><body>nope</body></html>", "neither Atom nor RSS"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "not well-formed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><feed>&lol2;</feed>',
            "DTD",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<rss><channel><title>&xxe;</title></channel></rss>",
            "DTD",
        ),
        (b"", "not well-formed"),
    ],
)
def test_hostile_or_broken_xml_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(FeedFormatError, match=message):
        loads_feed(raw)
