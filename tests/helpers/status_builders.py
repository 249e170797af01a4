"""Builders and fakes for status tests: Statuspage JSON documents, a clock, a source."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.status.model import StatusSnapshot
from bot.status.statuspage import parse_document

FIXTURES = Path(__file__).resolve().parents[1] / "status" / "fixtures"
PROJECT = Path(__file__).resolve().parents[2]
SAMPLE_FEED = PROJECT / "data" / "status" / "sample.json"
STATUS_TEMPLATES = PROJECT / "data" / "templates" / "status.yml"
ALIASES = PROJECT / "data" / "status" / "aliases.yml"

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """Statuspage's timestamp form."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fixture(*parts: str) -> dict[str, Any]:
    """A JSON fixture under tests/status/fixtures."""
    data: dict[str, Any] = json.loads(FIXTURES.joinpath(*parts).read_text(encoding="utf-8"))
    return data


def update(
    status: str,
    body: str,
    at: datetime,
    *,
    uid: str | None = None,
    affected: list[tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    """An incident update; ``affected`` is (name, old, new) per component."""
    return {
        "id": uid or f"u{int(at.timestamp())}",
        "status": status,
        "body": body,
        "created_at": iso(at),
        "display_at": iso(at),
        "affected_components": [
            {"code": name.lower().replace(" ", ""), "name": name, "old_status": o, "new_status": n}
            for name, o, n in affected
        ]
        if affected
        else None,
    }


def incident(
    *updates: dict[str, Any],
    iid: str = "inc1",
    name: str = "Card payments failing",
    impact: str = "major",
    components: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An incident whose status and times follow its updates (given newest first)."""
    newest, oldest = updates[0], updates[-1]
    doc = {
        "id": iid,
        "name": name,
        "status": newest["status"],
        "impact": impact,
        "created_at": oldest["display_at"],
        "started_at": oldest["display_at"],
        "updated_at": newest["display_at"],
        "monitoring_at": None,
        "resolved_at": newest["display_at"] if newest["status"] == "resolved" else None,
        "shortlink": f"https://stspg.io/{iid}",
        "incident_updates": list(updates),
        "components": components or [],
    }
    doc.update(extra)
    return doc


def component(
    name: str, status: str = "operational", *, position: int = 1, **extra: Any
) -> dict[str, Any]:
    """A component object."""
    return {
        "id": name.lower().replace(" ", ""),
        "name": name,
        "status": status,
        "position": position,
        **extra,
    }


def summary(
    *,
    components: list[dict[str, Any]] | None = None,
    incidents: list[dict[str, Any]] | None = None,
    maintenances: list[dict[str, Any]] | None = None,
    indicator: str = "none",
    updated: datetime = T0,
) -> dict[str, Any]:
    """A summary.json document for the Northwind page."""
    return {
        "page": {
            "id": "nwbk",
            "name": "Northwind Bank",
            "url": "https://status.northwind.example",
            "time_zone": "Etc/UTC",
            "updated_at": iso(updated),
        },
        "status": {"indicator": indicator, "description": "whatever"},
        "components": components or [],
        "incidents": incidents or [],
        "scheduled_maintenances": maintenances or [],
    }


def snapshot(doc: dict[str, Any]) -> StatusSnapshot:
    """Parse a document built here."""
    return parse_document(doc)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)


class FakeSource:
    """A ``StatusSource`` returning (or raising) what the test queues."""

    description = "fake://status"

    def __init__(self, *results: StatusSnapshot | Exception | None) -> None:
        self.results = list(results)
        self.calls = 0
        self.closed = False

    async def fetch(self) -> StatusSnapshot | None:
        self.calls += 1
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, Exception):
            raise result
        return result

    async def aclose(self) -> None:
        self.closed = True
