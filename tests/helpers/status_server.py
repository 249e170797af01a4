"""A loopback Statuspage v2 API that replays a recorded incident update by update.

``IncidentReplay`` turns a recorded ``{"page", "incident"}`` fixture into the
documents Statuspage would have served after each update (step 1 shows the
first update only, the last step the whole incident). ``StatuspageServer``
serves them for real on 127.0.0.1 (uvicorn + Starlette) with ETags, and can
misbehave on demand (HTTP errors, HTML, truncated JSON, slow answers).

Async use::

    async with StatuspageServer(IncidentReplay.from_file(path)) as server:
        server.show(1)            # or server.advance()
        ... StatuspageSource(server.url) ...

Sync use (e.g. beside a Rasa stack in another thread)::

    with StatuspageServer(replay).running() as server:
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.helpers.loopback import LoopbackServer

_INDICATOR = {"none": "none", "minor": "minor", "major": "major", "critical": "critical"}
_DESCRIPTION = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}


class IncidentReplay:
    """The documents a Statuspage served at each step of one recorded incident."""

    def __init__(self, fixture: dict[str, Any]) -> None:
        self.page: dict[str, Any] = dict(fixture["page"])
        self.incident: dict[str, Any] = fixture["incident"]
        # Oldest first: step k shows updates[:k].
        self.updates: list[dict[str, Any]] = sorted(
            self.incident["incident_updates"], key=lambda u: u["display_at"]
        )

    @classmethod
    def from_file(cls, path: Path | str) -> IncidentReplay:
        """Load a ``{"page": ..., "incident": ...}`` fixture file."""
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def rebased(self, now: datetime) -> IncidentReplay:
        """The same incident moved in time so that its last update is a minute before ``now``.

        For replays against a process with a real clock: a 2019 incident would
        otherwise read as long over.
        """
        last = _parse_time(self.updates[-1]["display_at"])
        assert last is not None
        delta = now - timedelta(minutes=1) - last
        fixture = {"page": self.page, "incident": self.incident}
        return IncidentReplay(_shift_times(copy.deepcopy(fixture), delta))

    @property
    def steps(self) -> int:
        """How many steps (one per update)."""
        return len(self.updates)

    def update_at(self, step: int) -> dict[str, Any]:
        """The newest update shown at ``step`` (1-based)."""
        return self.updates[self._check(step) - 1]

    def moment_at(self, step: int) -> datetime:
        """A moment just after the update of ``step`` was posted (for a test clock)."""
        shown = datetime.fromisoformat(self.update_at(step)["display_at"].replace("Z", "+00:00"))
        return shown + timedelta(seconds=30)

    def incident_at(self, step: int) -> dict[str, Any]:
        """The incident object as the API showed it at ``step``."""
        shown = self.updates[: self._check(step)]
        newest = shown[-1]
        incident = copy.deepcopy(self.incident)
        incident["incident_updates"] = copy.deepcopy(list(reversed(shown)))
        incident["status"] = newest["status"]
        incident["updated_at"] = newest["display_at"]
        incident["monitoring_at"] = _first(shown, "monitoring")
        incident["resolved_at"] = _first(shown, "resolved") or _first(shown, "postmortem")
        incident["components"] = self.components_at(step) if incident.get("components") else []
        return incident

    def components_at(self, step: int) -> list[dict[str, Any]]:
        """Every component the incident touches, with its status at ``step``."""
        status: dict[str, tuple[str, str]] = {}
        for update in self.updates[: self._check(step)]:
            for affected in update.get("affected_components") or ():
                status[affected["code"]] = (affected["name"], affected["new_status"])
        for component in self.incident.get("components") or ():
            status.setdefault(component["id"], (component["name"], "operational"))
        if self.update_at(step)["status"] in ("resolved", "postmortem"):
            status = {code: (name, "operational") for code, (name, _) in status.items()}
        return [
            {
                "id": code,
                "name": name,
                "status": state,
                "position": position,
                "group_id": None,
                "group": False,
                "page_id": self.page.get("id"),
            }
            for position, (code, (name, state)) in enumerate(sorted(status.items()), start=1)
        ]

    def documents_at(self, step: int) -> dict[str, dict[str, Any]]:
        """Endpoint path (under /api/v2/) -> JSON document at ``step``."""
        incident = self.incident_at(step)
        open_ = incident["status"] not in ("resolved", "postmortem")
        impact = incident.get("impact") or "none"
        indicator = _INDICATOR.get(impact, "minor") if open_ else "none"
        page = {**self.page, "updated_at": incident["updated_at"]}
        status = {"indicator": indicator, "description": _DESCRIPTION[indicator]}
        components = self.components_at(step)
        unresolved = [incident] if open_ else []
        return {
            "summary.json": {
                "page": page,
                "status": status,
                "components": components,
                "incidents": unresolved,
                "scheduled_maintenances": [],
            },
            "status.json": {"page": page, "status": status},
            "components.json": {"page": page, "components": components},
            "incidents.json": {"page": page, "incidents": [incident]},
            "incidents/unresolved.json": {"page": page, "incidents": unresolved},
            "scheduled-maintenances.json": {"page": page, "scheduled_maintenances": []},
            "scheduled-maintenances/upcoming.json": {"page": page, "scheduled_maintenances": []},
            "scheduled-maintenances/active.json": {"page": page, "scheduled_maintenances": []},
        }

    def _check(self, step: int) -> int:
        if not 1 <= step <= self.steps:
            raise ValueError(f"step must be between 1 and {self.steps}, got {step}")
        return step


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _ISO.match(value):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _shift_times(node: Any, delta: timedelta) -> Any:
    """Every ISO timestamp string in ``node`` moved by ``delta`` (same zone style)."""
    if isinstance(node, dict):
        return {k: _shift_times(v, delta) for k, v in node.items()}
    if isinstance(node, list):
        return [_shift_times(v, delta) for v in node]
    moment = _parse_time(node)
    if moment is None:
        return node
    shifted = (moment + delta).isoformat(timespec="milliseconds")
    return shifted.replace("+00:00", "Z") if str(node).endswith("Z") else shifted


def _first(updates: list[dict[str, Any]], status: str) -> str | None:
    return next((u["display_at"] for u in updates if u["status"] == status), None)


@dataclass
class Failure:
    """How the server misbehaves: an HTTP status, a body instead of JSON, or a delay."""

    status: int = 200
    body: bytes | None = None
    content_type: str = "application/json"
    delay_s: float = 0.0


@dataclass
class RecordedRequest:
    """One request the server answered."""

    path: str
    headers: dict[str, str]
    status: int


@dataclass
class _State:
    step: int = 1
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    failure: Failure | None = None
    requests: list[RecordedRequest] = field(default_factory=list)


class StatuspageServer(LoopbackServer):
    """A real HTTP server on 127.0.0.1 speaking Statuspage's public v2 API."""

    thread_name = "statuspage-server"

    def __init__(self, replay: IncidentReplay | None = None, *, step: int = 1) -> None:
        self.replay = replay
        self._state = _State()
        super().__init__()
        if replay is not None:
            self.show(step)

    # --- what is served --------------------------------------------------------
    @property
    def step(self) -> int:
        """The replay step being served."""
        return self._state.step

    def show(self, step: int) -> None:
        """Serve the documents of replay ``step``."""
        if self.replay is None:
            raise ValueError("no replay: use set_documents()")
        self._state.documents = self.replay.documents_at(step)
        self._state.step = step

    def advance(self) -> int:
        """Serve the next step; returns it."""
        self.show(self._state.step + 1)
        return self._state.step

    def set_documents(self, documents: dict[str, dict[str, Any]]) -> None:
        """Serve these documents (path under /api/v2/ -> JSON)."""
        self._state.documents = dict(documents)

    def fail(self, failure: Failure | None) -> None:
        """Misbehave on every request from now on (None: behave again)."""
        self._state.failure = failure

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far."""
        return self._state.requests

    @property
    def url(self) -> str:
        """The page's base URL (what a user configures as the status feed)."""
        if self._socket is None:
            raise RuntimeError("the server is not running")
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    # --- HTTP ------------------------------------------------------------------
    def _app(self) -> Starlette:
        async def endpoint(request: Request) -> Response:
            state = self._state
            path = request.path_params["path"]
            failure = state.failure
            if failure and failure.delay_s:
                await asyncio.sleep(failure.delay_s)
            if failure and (failure.status != 200 or failure.body is not None):
                response = Response(
                    failure.body or b"", failure.status, media_type=failure.content_type
                )
            elif path not in state.documents:
                response = Response(b'{"error":"not found"}', 404, media_type="application/json")
            else:
                body = json.dumps(state.documents[path]).encode("utf-8")
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                if request.headers.get("if-none-match") == etag:
                    response = Response(status_code=304, headers={"ETag": etag})
                else:
                    response = Response(
                        body, 200, media_type="application/json", headers={"ETag": etag}
                    )
            state.requests.append(
                RecordedRequest(
                    path=path, headers=dict(request.headers), status=response.status_code
                )
            )
            return response

        return Starlette(routes=[Route("/api/v2/{path:path}", endpoint)])


@contextlib.asynccontextmanager
async def replaying(path: Path | str, *, step: int = 1) -> AsyncIterator[StatuspageServer]:
    """A running server replaying the fixture at ``path``, from ``step``."""
    async with StatuspageServer(IncidentReplay.from_file(path), step=step) as server:
        yield server
