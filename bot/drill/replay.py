"""A recorded Statuspage incident as the summary documents the page showed, step by step.

The sandbox status source of a drill is a local feed file the drill rewrites:
the app polls it like any status feed, and nothing else is touched. Times are
compressed by the drill's speed and moved to start now, so "as of" and
"next update by" read as they did during the real incident.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_INDICATOR = {"none": "none", "minor": "minor", "major": "major", "critical": "critical"}
_CLOSED = ("resolved", "postmortem")


class DrillError(ValueError):
    """A drill input is unusable (one sentence for the user)."""


class IncidentReplay:
    """One recorded incident (``{"page": ..., "incident": ...}``), oldest update first."""

    def __init__(self, fixture: dict[str, Any]) -> None:
        try:
            self.page: dict[str, Any] = dict(fixture["page"])
            self.incident: dict[str, Any] = dict(fixture["incident"])
            updates = list(self.incident["incident_updates"])
            self.updates = sorted(updates, key=lambda u: str(u["display_at"]))
        except (KeyError, TypeError) as exc:
            raise DrillError(f"not a recorded Statuspage incident: missing {exc}") from None
        if not self.updates:
            raise DrillError("the incident has no updates to replay")

    @classmethod
    def from_file(cls, path: Path) -> IncidentReplay:
        """Load a recorded incident file (raises ``DrillError``)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise DrillError(f"{path}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise DrillError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
        if not isinstance(data, dict):
            raise DrillError(f"{path}: not a recorded Statuspage incident")
        return cls(data)

    @property
    def steps(self) -> int:
        """How many updates (steps) there are."""
        return len(self.updates)

    def offsets_s(self) -> list[float]:
        """Seconds from the first update to each update, in the recorded incident."""
        first = _time(self.updates[0]["display_at"])
        return [(_time(u["display_at"]) - first).total_seconds() for u in self.updates]

    def compressed(self, *, start: datetime, speed: float) -> IncidentReplay:
        """The same incident with every time moved so the first update is at ``start``,
        and the time between moments divided by ``speed``."""
        first = _time(self.updates[0]["display_at"])

        def move(moment: datetime) -> datetime:
            return start + (moment - first) / speed

        fixture = {"page": self.page, "incident": self.incident}
        return IncidentReplay(_map_times(copy.deepcopy(fixture), move))

    def summary_at(self, step: int) -> dict[str, Any]:
        """The page's summary.json after update ``step`` (1-based) was posted."""
        shown = self.updates[:step]
        newest = shown[-1]
        incident = copy.deepcopy(self.incident)
        incident["incident_updates"] = copy.deepcopy(list(reversed(shown)))
        incident["status"] = newest["status"]
        incident["updated_at"] = newest["display_at"]
        incident["resolved_at"] = next(
            (u["display_at"] for u in shown if u["status"] in _CLOSED), None
        )
        components = self._components_at(step)
        incident["components"] = components if incident.get("components") else []
        open_ = incident["status"] not in _CLOSED
        indicator = _INDICATOR.get(incident.get("impact") or "none", "minor") if open_ else "none"
        return {
            "page": {**self.page, "updated_at": newest["display_at"]},
            "status": {"indicator": indicator, "description": ""},
            "components": components,
            "incidents": [incident],
            "scheduled_maintenances": [],
        }

    def summary_before(self) -> dict[str, Any]:
        """The page's summary.json before the incident: no incident, every component it
        touches operational (what the sandbox serves while it starts)."""
        summary = self.summary_at(1)
        summary["incidents"] = []
        summary["status"] = {"indicator": "none", "description": ""}
        summary["components"] = [{**c, "status": "operational"} for c in summary["components"]]
        return summary

    def _components_at(self, step: int) -> list[dict[str, Any]]:
        status: dict[str, tuple[str, str]] = {}
        for update in self.updates[:step]:
            for affected in update.get("affected_components") or ():
                status[affected["code"]] = (affected["name"], affected["new_status"])
        for component in self.incident.get("components") or ():
            status.setdefault(component["id"], (component["name"], "operational"))
        if self.updates[step - 1]["status"] in _CLOSED:
            status = {code: (name, "operational") for code, (name, _) in status.items()}
        return [
            {"id": code, "name": name, "status": state, "position": i, "group": False}
            for i, (code, (name, state)) in enumerate(sorted(status.items()), start=1)
        ]


def write_feed(path: Path, document: dict[str, Any]) -> None:
    """Replace the sandbox feed file atomically (the poller never reads half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document), encoding="utf-8")
    os.replace(tmp, path)


def _time(value: Any) -> datetime:
    if not isinstance(value, str) or not _ISO.match(value):
        raise DrillError(f"unreadable update time {str(value)[:40]!r}")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _map_times(node: Any, move: Callable[[datetime], datetime]) -> Any:
    if isinstance(node, dict):
        return {k: _map_times(v, move) for k, v in node.items()}
    if isinstance(node, list):
        return [_map_times(v, move) for v in node]
    if isinstance(node, str) and _ISO.match(node):
        moved = move(_time(node)).isoformat(timespec="milliseconds")
        return moved.replace("+00:00", "Z")
    return node
