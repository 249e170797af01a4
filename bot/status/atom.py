"""Parse Atom and RSS status feeds: Statuspage's history.atom/.rss and generic feeds.

Statuspage entries carry the update trail as escaped HTML, newest first, one
``<p>`` per update: ``<small>Jun 18, 18:09 UTC</small><br><strong>Resolved</strong>
- text``. Generic feeds get one update per entry; their status is read from
the title when it says so, and entries with no readable status that are older
than ``history_after`` are treated as history and left out.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from bot.status.errors import FeedFormatError
from bot.status.model import (
    MAINTENANCE_STATUSES,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Page,
    StatusSnapshot,
)
from bot.status.safexml import parse_xml
from bot.status.times import ZONE_ABBREVIATIONS, parse_time

logger = logging.getLogger(__name__)

ATOM = "{http://www.w3.org/2005/Atom}"
_LABELS = {
    "investigating": IncidentStatus.INVESTIGATING,
    "identified": IncidentStatus.IDENTIFIED,
    "monitoring": IncidentStatus.MONITORING,
    "resolved": IncidentStatus.RESOLVED,
    "postmortem": IncidentStatus.POSTMORTEM,
    "scheduled": IncidentStatus.SCHEDULED,
    "in progress": IncidentStatus.IN_PROGRESS,
    "verifying": IncidentStatus.VERIFYING,
    "completed": IncidentStatus.COMPLETED,
}
_TITLE_HINTS = re.compile(
    r"\b(investigating|identified|monitoring|resolved|completed|scheduled)\b", re.IGNORECASE
)
_HEADER_TIME = re.compile(
    r"([A-Z][a-z]{2})\s+(\d{1,2}),\s*(\d{1,2}):(\d{2})\s*([A-Z]{1,5})?", re.UNICODE
)
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_INCIDENT_TAG = re.compile(r"(?:Incident|Maintenance)/([\w-]+)\s*$")


def loads_feed(
    raw: bytes,
    *,
    fetched_at: datetime | None = None,
    history_after: timedelta = timedelta(days=2),
) -> StatusSnapshot:
    """Parse an Atom or RSS document into a snapshot (incidents only; no components)."""
    root = parse_xml(raw)
    if root.tag == f"{ATOM}feed":
        title, link, updated, entries = _atom(root)
    elif root.tag == "rss" and root.find("channel") is not None:
        title, link, updated, entries = _rss(root)
    else:
        raise FeedFormatError(f"the feed is XML but neither Atom nor RSS (root <{root.tag}>)")
    reference = updated or fetched_at or datetime.now(UTC)
    incidents: list[Incident] = []
    maintenances: list[Incident] = []
    for entry in entries:
        incident = _incident(entry)
        if incident.status is IncidentStatus.UNKNOWN and _older(incident, reference, history_after):
            continue
        (maintenances if incident.is_maintenance else incidents).append(incident)
    return StatusSnapshot(
        page=Page(name=title, url=link),
        incidents=tuple(incidents),
        maintenances=tuple(maintenances),
        as_of=updated,
        fetched_at=fetched_at,
    )


@dataclass(slots=True)
class _Entry:
    id: str
    title: str
    link: str | None
    published: datetime | None
    updated: datetime | None
    html: str


def _atom(root: ET.Element) -> tuple[str, str | None, datetime | None, list[_Entry]]:
    entries = [
        _Entry(
            id=_text(e, f"{ATOM}id"),
            title=_text(e, f"{ATOM}title"),
            link=_atom_link(e),
            published=parse_time(_text(e, f"{ATOM}published") or None),
            updated=parse_time(_text(e, f"{ATOM}updated") or None),
            html=_text(e, f"{ATOM}content") or _text(e, f"{ATOM}summary"),
        )
        for e in root.findall(f"{ATOM}entry")
    ]
    updated = parse_time(_text(root, f"{ATOM}updated") or None)
    return _text(root, f"{ATOM}title"), _atom_link(root), updated, entries


def _rss(root: ET.Element) -> tuple[str, str | None, datetime | None, list[_Entry]]:
    channel = root.find("channel")
    assert channel is not None
    entries = []
    for item in channel.findall("item"):
        when = parse_time(_text(item, "pubDate") or None)
        entries.append(
            _Entry(
                id=_text(item, "guid") or _text(item, "link") or _text(item, "title"),
                title=_text(item, "title"),
                link=_text(item, "link") or None,
                published=when,
                updated=when,
                html=_text(item, "description"),
            )
        )
    updated = parse_time(_text(channel, "lastBuildDate") or _text(channel, "pubDate") or None)
    return _text(channel, "title"), _text(channel, "link") or None, updated, entries


def _text(element: ET.Element, tag: str) -> str:
    found = element.find(tag)
    return (found.text or "").strip() if found is not None else ""


def _atom_link(element: ET.Element) -> str | None:
    for link in element.findall(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href")
    return None


def _incident(entry: _Entry) -> Incident:
    updates = _statuspage_updates(entry)
    if updates:
        status = updates[0].status
    else:
        hint = _TITLE_HINTS.search(entry.title)
        status = _LABELS[hint.group(1).lower()] if hint else IncidentStatus.UNKNOWN
        body = _plain(entry.html) or entry.title
        updates = [IncidentUpdate(id="", status=status, body=body, display_at=entry.updated)]
    tag = _INCIDENT_TAG.search(entry.id)
    link_id = entry.link.rstrip("/").rsplit("/", 1)[-1] if entry.link else ""
    incident_id = tag.group(1) if tag else (link_id or entry.id or entry.title)
    return Incident(
        id=incident_id,
        name=entry.title,
        status=status,
        created_at=entry.published,
        updated_at=entry.updated,
        started_at=entry.published,
        resolved_at=updates[0].display_at if status is IncidentStatus.RESOLVED else None,
        shortlink=entry.link,
        updates=tuple(updates),
        is_maintenance=status in MAINTENANCE_STATUSES,
    )


def _older(incident: Incident, reference: datetime, limit: timedelta) -> bool:
    moment = incident.updated_at or incident.created_at
    return moment is None or reference - moment > limit


@dataclass(slots=True)
class _Paragraph:
    small: str = ""
    strong: str = ""
    rest: list[str] = field(default_factory=list)


class _UpdateTrail(HTMLParser):
    """Collects Statuspage's ``<p><small>time</small><strong>Label</strong> - text</p>`` blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[_Paragraph] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            self.paragraphs.append(_Paragraph())
        elif tag in ("small", "strong") and self.paragraphs:
            self._in = tag
        elif tag == "br" and self.paragraphs and self.paragraphs[-1].strong:
            self.paragraphs[-1].rest.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if not self.paragraphs:
            return
        para = self.paragraphs[-1]
        if self._in == "small" and not para.strong:
            para.small += data
        elif self._in == "strong" and not para.strong:
            para.strong = data.strip()
        else:
            para.rest.append(data)


def _statuspage_updates(entry: _Entry) -> list[IncidentUpdate]:
    trail = _UpdateTrail()
    trail.feed(entry.html)
    trail.close()
    paragraphs = [p for p in trail.paragraphs if p.strong]
    if not paragraphs:
        return []
    reference = entry.updated or entry.published
    statuses = [_LABELS.get(p.strong.lower()) for p in paragraphs]
    # "Update" keeps the phase of the update before it (older ones come later in the list).
    resolved: list[IncidentStatus] = [IncidentStatus.UNKNOWN] * len(statuses)
    carry = IncidentStatus.UNKNOWN
    for index in range(len(statuses) - 1, -1, -1):
        carry = statuses[index] or carry
        resolved[index] = carry
    updates = []
    for index, para in enumerate(paragraphs):
        body = "".join(para.rest).strip().removeprefix("-").strip()
        when = _header_time(para.small, reference)
        if when is None and index == 0:
            when = reference
        updates.append(
            IncidentUpdate(id=f"{index}", status=resolved[index], body=body, display_at=when)
        )
    return updates


def _header_time(text: str, reference: datetime | None) -> datetime | None:
    match = _HEADER_TIME.search(" ".join(text.split()))
    if not match or reference is None or match.group(1) not in _MONTHS:
        return None
    month, day = _MONTHS.index(match.group(1)) + 1, int(match.group(2))
    zone = ZONE_ABBREVIATIONS.get(match.group(5) or "UTC")
    if zone is None:
        return None
    try:
        moment = datetime(
            reference.year, month, day, int(match.group(3)), int(match.group(4)), tzinfo=zone
        )
    except ValueError:
        return None
    if moment - reference > timedelta(days=1):  # an update from December read in January
        moment = moment.replace(year=reference.year - 1)
    return moment.astimezone(UTC)


def _plain(html: str) -> str:
    trail = _UpdateTrail()
    trail.paragraphs.append(_Paragraph())
    trail.feed(html)
    trail.close()
    text = " ".join(" ".join(p.small.split() + [p.strong] + p.rest) for p in trail.paragraphs)
    return " ".join(text.split())
