"""Parse Atlassian Statuspage v2 JSON documents into the status model.

Accepts summary.json, status.json, components.json, incidents.json,
incidents/unresolved.json, scheduled-maintenances*.json, and the
``{"page": ..., "incident": ...}`` shape of recorded incidents and webhooks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.status.errors import FeedFormatError
from bot.status.model import (
    MAINTENANCE_STATUSES,
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
from bot.status.times import parse_time, zone_named

logger = logging.getLogger(__name__)

_KNOWN_KEYS = {"page", "status", "components", "incidents", "incident", "scheduled_maintenances"}


def loads(raw: bytes | str, *, fetched_at: datetime | None = None) -> StatusSnapshot:
    """Parse the text of a Statuspage JSON document (raises FeedFormatError)."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        head = raw[:40].decode("utf-8", "replace") if isinstance(raw, bytes) else raw[:40]
        hint = "HTML, not JSON" if head.lstrip().startswith("<") else f"invalid JSON ({exc})"
        raise FeedFormatError(f"the feed sent {hint}") from exc
    return parse_document(doc, fetched_at=fetched_at)


def parse_document(doc: object, *, fetched_at: datetime | None = None) -> StatusSnapshot:
    """Parse any Statuspage v2 document (already decoded JSON) into a snapshot."""
    if not isinstance(doc, dict) or not _KNOWN_KEYS & doc.keys():
        raise FeedFormatError("the feed is JSON but not a Statuspage document")
    try:
        return _parse(doc, fetched_at)
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise FeedFormatError(f"the feed has an unexpected structure ({exc})") from exc


def _parse(doc: Mapping[str, Any], fetched_at: datetime | None) -> StatusSnapshot:
    page = parse_page(doc.get("page"))
    tz = zone_named(page.time_zone)
    indicator, description = PageIndicator.UNKNOWN, ""
    status = doc.get("status")
    if isinstance(status, Mapping):
        indicator = coerce(PageIndicator, status.get("indicator"), what="page indicator")
        description = str(status.get("description") or "")
    elif isinstance(doc.get("page"), Mapping) and "status_indicator" in doc["page"]:
        indicator = coerce(PageIndicator, doc["page"]["status_indicator"], what="page indicator")
        description = str(doc["page"].get("status_description") or "")
    incidents: list[Incident] = []
    maintenances: list[Incident] = []
    raw_incidents = list(_records(doc.get("incidents"), "incidents"))
    if isinstance(doc.get("incident"), Mapping):
        raw_incidents.append(doc["incident"])
    for raw in raw_incidents:
        incident = parse_incident(raw, tz=tz)
        (maintenances if incident.is_maintenance else incidents).append(incident)
    for raw in _records(doc.get("scheduled_maintenances"), "scheduled_maintenances"):
        maintenances.append(parse_incident(raw, tz=tz, maintenance=True))
    components = tuple(parse_component(c) for c in _records(doc.get("components"), "components"))
    as_of = parse_time(doc["page"].get("updated_at"), default_tz=tz) if _has_page(doc) else None
    return StatusSnapshot(
        page=page,
        indicator=indicator,
        description=description,
        components=components,
        incidents=tuple(incidents),
        maintenances=tuple(maintenances),
        as_of=as_of,
        fetched_at=fetched_at,
    )


def _has_page(doc: Mapping[str, Any]) -> bool:
    return isinstance(doc.get("page"), Mapping)


def _records(value: object, what: str) -> Iterable[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise FeedFormatError(f"the feed's {what!r} is not a list of objects")
    return value


def parse_page(raw: object) -> Page:
    """Parse the ``page`` object (summary or webhook form)."""
    if not isinstance(raw, Mapping):
        return Page()
    return Page(
        id=str(raw.get("id") or ""),
        name=str(raw.get("name") or ""),
        url=_text_or_none(raw.get("url")),
        time_zone=_text_or_none(raw.get("time_zone")),
    )


def parse_component(raw: Mapping[str, Any]) -> Component:
    """Parse one component object."""
    return Component(
        id=str(raw.get("id") or raw.get("code") or raw.get("name") or ""),
        name=str(raw.get("name") or "").strip(),
        status=coerce(ComponentStatus, raw.get("status"), what="component status"),
        group_id=_text_or_none(raw.get("group_id")),
        is_group=bool(raw.get("group")),
        position=int(raw.get("position") or 0),
        description=_text_or_none(raw.get("description")),
        updated_at=parse_time(raw.get("updated_at")),
    )


def parse_incident(
    raw: Mapping[str, Any], *, tz: tzinfo = UTC, maintenance: bool = False
) -> Incident:
    """Parse one incident or scheduled maintenance, updates sorted newest first."""
    if not raw.get("id"):
        raise FeedFormatError("the feed has an incident without an id")

    def when(key: str) -> datetime | None:
        return parse_time(raw.get(key), default_tz=tz)

    status = coerce(IncidentStatus, raw.get("status"), what="incident status")
    updates = sorted(
        (parse_update(u, tz=tz) for u in _records(raw.get("incident_updates"), "incident_updates")),
        key=lambda u: u.display_at or u.created_at or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    is_maintenance = maintenance or bool(raw.get("scheduled_for")) or status in MAINTENANCE_STATUSES
    return Incident(
        id=str(raw["id"]),
        name=str(raw.get("name") or "").strip(),
        status=status,
        impact=coerce(Impact, raw.get("impact") or "none", what="incident impact"),
        created_at=when("created_at"),
        updated_at=when("updated_at"),
        started_at=when("started_at"),
        monitoring_at=when("monitoring_at"),
        resolved_at=when("resolved_at"),
        shortlink=_text_or_none(raw.get("shortlink")),
        updates=tuple(updates),
        components=tuple(parse_component(c) for c in _records(raw.get("components"), "components")),
        scheduled_for=when("scheduled_for"),
        scheduled_until=when("scheduled_until"),
        is_maintenance=is_maintenance,
    )


def parse_update(raw: Mapping[str, Any], *, tz: tzinfo = UTC) -> IncidentUpdate:
    """Parse one incident update (its ``affected_components`` may be null)."""
    affected = tuple(
        AffectedComponent(
            code=str(a.get("code") or ""),
            name=str(a.get("name") or "").strip(),
            old_status=coerce(ComponentStatus, a.get("old_status"), what="component status"),
            new_status=coerce(ComponentStatus, a.get("new_status"), what="component status"),
        )
        for a in _records(raw.get("affected_components"), "affected_components")
    )
    created = parse_time(raw.get("created_at"), default_tz=tz)
    return IncidentUpdate(
        id=str(raw.get("id") or ""),
        status=coerce(IncidentStatus, raw.get("status"), what="incident status"),
        body=str(raw.get("body") or ""),
        display_at=parse_time(raw.get("display_at"), default_tz=tz) or created,
        created_at=created,
        affected=affected,
    )


def merge(snapshots: Iterable[StatusSnapshot]) -> StatusSnapshot:
    """Combine documents of one page (summary + incidents + maintenances) into one snapshot.

    Page-level fields come from the first document that has them; incidents and
    maintenances are united by id, keeping the most recently updated copy.
    """
    parts = list(snapshots)
    if not parts:
        return StatusSnapshot()
    first = parts[0]
    page = next((s.page for s in parts if s.page.id or s.page.name), first.page)
    indicator, description = next(
        ((s.indicator, s.description) for s in parts if s.indicator is not PageIndicator.UNKNOWN),
        (PageIndicator.UNKNOWN, ""),
    )
    components = next((s.components for s in parts if s.components), ())
    stamps = [s.as_of for s in parts if s.as_of]
    fetched = [s.fetched_at for s in parts if s.fetched_at]
    return StatusSnapshot(
        page=page,
        indicator=indicator,
        description=description,
        components=components,
        incidents=_union(i for s in parts for i in s.incidents),
        maintenances=_union(m for s in parts for m in s.maintenances),
        as_of=max(stamps) if stamps else None,
        fetched_at=max(fetched) if fetched else None,
    )


def _union(items: Iterable[Incident]) -> tuple[Incident, ...]:
    best: dict[str, Incident] = {}
    for item in items:
        kept = best.get(item.id)
        if kept is None or _stamp(item) > _stamp(kept):
            best[item.id] = item
    return tuple(best.values())


def _stamp(incident: Incident) -> float:
    moment = incident.updated_at or incident.created_at
    return moment.timestamp() if moment else 0.0


def _text_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
