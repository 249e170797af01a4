"""The normalized status model every feed format is parsed into."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

logger = logging.getLogger(__name__)


class PageIndicator(StrEnum):
    """The page-wide status indicator."""

    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


class ComponentStatus(StrEnum):
    """How one component is doing."""

    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"
    UNKNOWN = "unknown"


class IncidentStatus(StrEnum):
    """The phase of an incident (first five) or a scheduled maintenance (the rest)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"
    UNKNOWN = "unknown"


class Impact(StrEnum):
    """The impact the status page assigned to an incident."""

    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


CLOSED_STATUSES = frozenset(
    {IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM, IncidentStatus.COMPLETED}
)
MAINTENANCE_STATUSES = frozenset(
    {
        IncidentStatus.SCHEDULED,
        IncidentStatus.IN_PROGRESS,
        IncidentStatus.VERIFYING,
        IncidentStatus.COMPLETED,
    }
)

E = TypeVar("E", bound=StrEnum)
_reported: set[tuple[str, str]] = set()


def coerce(enum: type[E], value: object, *, what: str) -> E:
    """Map a feed value onto ``enum``; unknown values become UNKNOWN and log one line."""
    text = str(value).strip().lower().replace(" ", "_") if value is not None else ""
    try:
        return enum(text)
    except ValueError:
        unknown = enum("unknown")
        key = (what, text)
        # One warning per distinct value per process: a poller must not repeat it every cycle.
        level = logging.DEBUG if key in _reported else logging.WARNING
        _reported.add(key)
        logger.log(level, "status feed: unknown %s %r; treated as unknown", what, str(value)[:60])
        return unknown


@dataclass(frozen=True, slots=True)
class Component:
    """A component of the service as the status page names it."""

    id: str
    name: str
    status: ComponentStatus
    group_id: str | None = None
    is_group: bool = False
    position: int = 0
    description: str | None = None
    # when the page last changed it (orders late webhook deliveries; not part of equality)
    updated_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class AffectedComponent:
    """A component an update changed (or confirmed)."""

    code: str
    name: str
    old_status: ComponentStatus
    new_status: ComponentStatus


@dataclass(frozen=True, slots=True)
class IncidentUpdate:
    """One update posted on an incident, with the text as the page wrote it."""

    id: str
    status: IncidentStatus
    body: str
    display_at: datetime | None
    created_at: datetime | None = None
    affected: tuple[AffectedComponent, ...] = ()


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident or a scheduled maintenance, with its updates newest first."""

    id: str
    name: str
    status: IncidentStatus
    impact: Impact = Impact.NONE
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    monitoring_at: datetime | None = None
    resolved_at: datetime | None = None
    shortlink: str | None = None
    updates: tuple[IncidentUpdate, ...] = ()
    components: tuple[Component, ...] = ()
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    is_maintenance: bool = False

    @property
    def is_open(self) -> bool:
        """True until the incident is resolved (or the maintenance completed)."""
        return self.status not in CLOSED_STATUSES

    @property
    def latest_update(self) -> IncidentUpdate | None:
        """The newest update, if the page posted any."""
        return self.updates[0] if self.updates else None

    @property
    def since(self) -> datetime | None:
        """When the problem started, as well as the page says."""
        return self.started_at or self.created_at

    def affected_names(self) -> tuple[str, ...]:
        """Names of the components this incident affects, most recent information first."""
        names: list[str] = [c.name for c in self.components]
        for update in self.updates:
            names.extend(a.name for a in update.affected)
        return tuple(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True, slots=True)
class Page:
    """Who publishes the status page."""

    id: str = ""
    name: str = ""
    url: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """Everything a status page said at one moment."""

    page: Page = field(default_factory=Page)
    indicator: PageIndicator = PageIndicator.UNKNOWN
    description: str = ""
    components: tuple[Component, ...] = ()
    incidents: tuple[Incident, ...] = ()
    maintenances: tuple[Incident, ...] = ()
    as_of: datetime | None = None
    fetched_at: datetime | None = None

    def open_incidents(self) -> list[Incident]:
        """Unresolved incidents, most recently updated first."""
        return _newest_first(i for i in self.incidents if i.is_open)

    def resolved_incidents(self) -> list[Incident]:
        """Resolved incidents, most recently updated first."""
        return _newest_first(i for i in self.incidents if not i.is_open)

    def maintenances_in(self, *statuses: IncidentStatus) -> list[Incident]:
        """Maintenances whose status is one of ``statuses``, most recently updated first."""
        return _newest_first(m for m in self.maintenances if m.status in statuses)

    def leaf_components(self) -> list[Component]:
        """Components customers use (groups left out), in page order."""
        return sorted((c for c in self.components if not c.is_group), key=lambda c: c.position)

    def component(self, name: str) -> Component | None:
        """The component named exactly ``name``."""
        return next((c for c in self.components if c.name == name), None)


def _newest_first(items: Iterable[Incident]) -> list[Incident]:
    return sorted(items, key=_updated_key, reverse=True)


def _updated_key(incident: Incident) -> float:
    moment = incident.updated_at or incident.created_at
    return moment.timestamp() if moment else 0.0
