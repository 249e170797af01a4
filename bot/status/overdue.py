"""When the next update on an open incident is due, and whether it is late.

Two sources of a due time, and only these (Faro never makes one up):

- the promise in the latest update's own text ("We will post the next update
  by 10:45 UTC", "next update in 30 minutes", "próxima actualización a las
  10:45", "en 30 minutos"), read relative to when that update was posted;
- the team's own rhythm for the incident's impact (e.g. major: every 30
  minutes), counted from the latest update.

The earlier of the two is the due time; a grace period absorbs a page that
is a minute or two late. A new update moves everything forward.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from bot.status.eta import find_next_update
from bot.status.model import Impact, Incident, StatusSnapshot
from bot.status.times import ZONE_ABBREVIATIONS
from bot.status.wording import quote

_CLOCK = re.compile(
    r"\b(?:by|at|before|around|until|a las|antes de las|hacia las|sobre las)\s+"
    r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*(?:([A-Z]{1,4})\b)?",
    re.IGNORECASE,
)
_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "un": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "media": 0.5,
    "half an": 0.5,
}
_RELATIVE = re.compile(
    r"\b(?:in|within|en|dentro de)\s+(?:the next |los próximos |las próximas )?"
    r"(?:about |around |approximately |unos |unas |aproximadamente )?"
    r"(\d+|half an|a|an|one|two|three|four|five|un|una|media|dos|tres|cuatro|cinco)\s+"
    r"(minutes?|mins?|hours?|minutos?|horas?)\b",
    re.IGNORECASE,
)
_HALF_HOUR = re.compile(r"\b(?:in|within) half an hour\b|\ben media hora\b", re.IGNORECASE)


class DueReason(StrEnum):
    """Where a due time came from."""

    PROMISED = "promised"  # the update's own text
    RHYTHM = "rhythm"  # the team's rhythm for the impact


@dataclass(frozen=True, slots=True)
class DrillTime:
    """A drill's compressed time: the recorded incident replayed ``speed`` times faster.

    ``origin`` is when the recorded incident's first update was posted; in the
    drill, that update is posted at the (moved) time the feed shows. Promises
    ("next update by 10:45 UTC") are read in recorded time, and every span (a
    promise, the rhythm, the grace) is divided by ``speed``: a drill at x60
    raises the overdue alert in drill time.
    """

    speed: float
    origin: datetime | None = None


@dataclass(frozen=True, slots=True)
class Rhythm:
    """The team's update rhythm per impact (None: no rhythm for that impact)."""

    critical: timedelta | None = timedelta(minutes=30)
    major: timedelta | None = timedelta(minutes=30)
    minor: timedelta | None = timedelta(minutes=60)
    grace: timedelta = timedelta(minutes=2)
    # a drill: promises read in recorded time, compressed; the spans above are given
    # already compressed (see ``Rhythm.compressed``)
    drill: DrillTime | None = None

    def compressed(self, drill: DrillTime) -> Rhythm:
        """This rhythm in ``drill``'s time: every span divided by its speed."""
        speed = drill.speed if drill.speed > 0 else 1.0

        def fast(span: timedelta | None) -> timedelta | None:
            return span / speed if span is not None else None

        return Rhythm(
            critical=fast(self.critical),
            major=fast(self.major),
            minor=fast(self.minor),
            grace=self.grace / speed,
            drill=drill,
        )

    @property
    def speed(self) -> float:
        """How many times faster than real the clock runs (1 outside drills)."""
        return self.drill.speed if self.drill is not None and self.drill.speed > 0 else 1.0

    def every(self, impact: Impact) -> timedelta | None:
        """How often an incident of ``impact`` gets an update."""
        if impact is Impact.CRITICAL:
            return self.critical
        if impact is Impact.MAJOR:
            return self.major
        if impact in (Impact.MINOR, Impact.NONE, Impact.UNKNOWN):
            return self.minor
        return None


@dataclass(frozen=True, slots=True)
class DueUpdate:
    """The next update of an open incident: when it is due and why."""

    incident_id: str
    incident_name: str
    impact: Impact
    last_update_at: datetime
    due_at: datetime
    reason: DueReason
    promise: str | None = None  # the sentence that made the promise

    def overdue(self, now: datetime, grace: timedelta) -> bool:
        """True when ``now`` is past the due time plus ``grace``."""
        return now > self.due_at + grace

    @property
    def key(self) -> str:
        """Identifies this due update (a new update on the incident makes a new key)."""
        return f"{self.incident_id}@{self.last_update_at.isoformat()}"


def promised_time(text: str, *, posted_at: datetime, tz: tzinfo = UTC) -> datetime | None:
    """The time the next-update sentence of ``text`` promises, or None if it names none.

    Clock times ("by 10:45 UTC") are read in their stated zone, else ``tz``, as the
    first such time after ``posted_at``; durations ("in 30 minutes") count from it.
    """
    sentence = find_next_update(quote(text, limit=10_000))
    if sentence is None:
        return None
    if _HALF_HOUR.search(sentence):
        return posted_at + timedelta(minutes=30)
    relative = _RELATIVE.search(sentence)
    if relative:
        amount_text, unit = relative.group(1).lower(), relative.group(2).lower()
        amount = float(amount_text) if amount_text.isdigit() else _WORDS.get(amount_text)
        if amount is None or amount <= 0 or amount > 48 * 60:
            return None
        minutes = amount * 60 if unit.startswith("h") else amount
        return posted_at + timedelta(minutes=minutes)
    clock = _CLOCK.search(sentence)
    if clock:
        return _next_clock(clock, posted_at=posted_at, tz=tz)
    return None


def _next_clock(match: re.Match[str], *, posted_at: datetime, tz: tzinfo) -> datetime | None:
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    meridian = (match.group(3) or "").lower().replace(".", "")
    if meridian == "pm" and hour < 12:
        hour += 12
    elif meridian == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    zone_name = (match.group(4) or "").upper()
    zone = ZONE_ABBREVIATIONS.get(zone_name, tz)
    local = posted_at.astimezone(zone)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate < local - timedelta(minutes=5):  # "by 00:15" posted at 23:50: tomorrow
        candidate += timedelta(days=1)
    return candidate.astimezone(UTC)


def next_update_due(incident: Incident, *, rhythm: Rhythm, tz: tzinfo = UTC) -> DueUpdate | None:
    """When the next update of an open incident is due (None: closed, or nothing to count)."""
    if not incident.is_open or incident.is_maintenance:
        return None
    latest = incident.latest_update
    last_at = (
        ((latest.display_at or latest.created_at) if latest else None)
        or incident.updated_at
        or incident.created_at
    )
    if last_at is None:
        return None
    candidates: list[tuple[datetime, DueReason, str | None]] = []
    speed = rhythm.speed
    if latest is not None:
        # in a drill, the promise is read at the recorded time the update was posted
        recorded = _recorded(incident, last_at, rhythm)
        promised = promised_time(latest.body, posted_at=recorded, tz=tz)
        if promised is not None:
            sentence = find_next_update(quote(latest.body, limit=10_000))
            candidates.append(
                (last_at + (promised - recorded) / speed, DueReason.PROMISED, sentence)
            )
    every = rhythm.every(incident.impact)
    if every is not None:
        candidates.append((last_at + every, DueReason.RHYTHM, None))
    if not candidates:
        return None
    due_at, reason, promise = min(candidates, key=lambda c: c[0])
    return DueUpdate(
        incident_id=incident.id,
        incident_name=incident.name,
        impact=incident.impact,
        last_update_at=last_at,
        due_at=due_at,
        reason=reason,
        promise=promise,
    )


def _recorded(incident: Incident, moment: datetime, rhythm: Rhythm) -> datetime:
    """``moment`` of a drill's feed in the recorded incident's time (itself outside drills)."""
    drill = rhythm.drill
    if drill is None or drill.origin is None:
        return moment
    times = [t for u in incident.updates if (t := u.display_at or u.created_at) is not None]
    if not times:
        return moment
    return drill.origin + (moment - min(times)) * rhythm.speed


def overdue_updates(
    snapshot: StatusSnapshot | None, *, now: datetime, rhythm: Rhythm, tz: tzinfo = UTC
) -> list[DueUpdate]:
    """The open incidents whose next update is late at ``now``."""
    if snapshot is None:
        return []
    late = []
    for incident in snapshot.open_incidents():
        due = next_update_due(incident, rhythm=rhythm, tz=tz)
        if due is not None and due.overdue(now, rhythm.grace):
            late.append(due)
    return late
