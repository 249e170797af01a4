"""Snapshots to and from JSON-able dicts (``faro status show --json``, the state file)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.status.errors import FeedFormatError
from bot.status.model import (
    AffectedComponent,
    Component,
    ComponentStatus,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Page,
    PageIndicator,
    StatusSnapshot,
    coerce,
)
from bot.status.times import parse_time


def snapshot_to_dict(snapshot: StatusSnapshot) -> dict[str, Any]:
    """Every field of ``snapshot`` as JSON-able values (times in ISO 8601 UTC)."""
    return {
        "page": {
            "id": snapshot.page.id,
            "name": snapshot.page.name,
            "url": snapshot.page.url,
            "time_zone": snapshot.page.time_zone,
        },
        "indicator": snapshot.indicator.value,
        "description": snapshot.description,
        "as_of": _iso(snapshot.as_of),
        "fetched_at": _iso(snapshot.fetched_at),
        "components": [_component(c) for c in snapshot.components],
        "incidents": [incident_to_dict(i) for i in snapshot.incidents],
        "maintenances": [incident_to_dict(m) for m in snapshot.maintenances],
    }


def incident_to_dict(incident: Incident) -> dict[str, Any]:
    """One incident with all its updates (text as the page wrote it)."""
    return {
        "id": incident.id,
        "name": incident.name,
        "status": incident.status.value,
        "impact": incident.impact.value,
        "is_maintenance": incident.is_maintenance,
        "created_at": _iso(incident.created_at),
        "updated_at": _iso(incident.updated_at),
        "started_at": _iso(incident.started_at),
        "monitoring_at": _iso(incident.monitoring_at),
        "resolved_at": _iso(incident.resolved_at),
        "scheduled_for": _iso(incident.scheduled_for),
        "scheduled_until": _iso(incident.scheduled_until),
        "shortlink": incident.shortlink,
        "components": [_component(c) for c in incident.components],
        "updates": [
            {
                "id": u.id,
                "status": u.status.value,
                "body": u.body,
                "display_at": _iso(u.display_at),
                "created_at": _iso(u.created_at),
                "affected_components": [
                    {
                        "code": a.code,
                        "name": a.name,
                        "old_status": a.old_status.value,
                        "new_status": a.new_status.value,
                    }
                    for a in u.affected
                ],
            }
            for u in incident.updates
        ],
    }


def snapshot_from_dict(data: Mapping[str, Any]) -> StatusSnapshot:
    """Rebuild a snapshot written by :func:`snapshot_to_dict` (raises FeedFormatError)."""
    try:
        page = data.get("page") or {}
        return StatusSnapshot(
            page=Page(
                id=str(page.get("id") or ""),
                name=str(page.get("name") or ""),
                url=page.get("url"),
                time_zone=page.get("time_zone"),
            ),
            indicator=coerce(PageIndicator, data.get("indicator"), what="page indicator"),
            description=str(data.get("description") or ""),
            components=tuple(_component_from(c) for c in data.get("components") or ()),
            incidents=tuple(_incident_from(i) for i in data.get("incidents") or ()),
            maintenances=tuple(_incident_from(m) for m in data.get("maintenances") or ()),
            as_of=parse_time(data.get("as_of")),
            fetched_at=parse_time(data.get("fetched_at")),
        )
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise FeedFormatError(f"the saved status has an unexpected structure ({exc})") from exc


def _incident_from(d: Mapping[str, Any]) -> Incident:
    return Incident(
        id=str(d["id"]),
        name=str(d.get("name") or ""),
        status=coerce(IncidentStatus, d.get("status"), what="incident status"),
        impact=coerce(Impact, d.get("impact"), what="incident impact"),
        is_maintenance=bool(d.get("is_maintenance")),
        created_at=parse_time(d.get("created_at")),
        updated_at=parse_time(d.get("updated_at")),
        started_at=parse_time(d.get("started_at")),
        monitoring_at=parse_time(d.get("monitoring_at")),
        resolved_at=parse_time(d.get("resolved_at")),
        scheduled_for=parse_time(d.get("scheduled_for")),
        scheduled_until=parse_time(d.get("scheduled_until")),
        shortlink=d.get("shortlink"),
        components=tuple(_component_from(c) for c in d.get("components") or ()),
        updates=tuple(
            IncidentUpdate(
                id=str(u.get("id") or ""),
                status=coerce(IncidentStatus, u.get("status"), what="incident status"),
                body=str(u.get("body") or ""),
                display_at=parse_time(u.get("display_at")),
                created_at=parse_time(u.get("created_at")),
                affected=tuple(
                    AffectedComponent(
                        code=str(a.get("code") or ""),
                        name=str(a.get("name") or ""),
                        old_status=coerce(
                            ComponentStatus, a.get("old_status"), what="component status"
                        ),
                        new_status=coerce(
                            ComponentStatus, a.get("new_status"), what="component status"
                        ),
                    )
                    for a in u.get("affected_components") or ()
                ),
            )
            for u in d.get("updates") or ()
        ),
    )


def _component(c: Component) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "status": c.status.value,
        "group_id": c.group_id,
        "group": c.is_group,
        "position": c.position,
        "description": c.description,
        "updated_at": _iso(c.updated_at),
    }


def _component_from(d: Mapping[str, Any]) -> Component:
    return Component(
        id=str(d.get("id") or ""),
        name=str(d.get("name") or ""),
        status=coerce(ComponentStatus, d.get("status"), what="component status"),
        group_id=d.get("group_id"),
        is_group=bool(d.get("group")),
        position=int(d.get("position") or 0),
        description=d.get("description"),
        updated_at=parse_time(d.get("updated_at")),
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None
