"""Compose status answers from the live snapshot and the staff-editable templates.

Every answer says "as of" when the state was confirmed, quotes the latest
update as the status page wrote it, and states an estimate only by quoting
an update that gave one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from bot.status.eta import find_eta, find_next_update
from bot.status.model import (
    Component,
    ComponentStatus,
    Incident,
    IncidentStatus,
    StatusSnapshot,
)
from bot.status.overdue import DueReason, Rhythm, next_update_due
from bot.status.wording import format_age, format_time, join_names, language, quote, slug

logger = logging.getLogger(__name__)

_PHASES = {
    IncidentStatus.INVESTIGATING: "investigating",
    IncidentStatus.IDENTIFIED: "identified",
    IncidentStatus.MONITORING: "monitoring",
    IncidentStatus.RESOLVED: "resolved",
    IncidentStatus.POSTMORTEM: "resolved",
}
_MAX_COMPONENTS = 4


class TemplateSource(Protocol):
    """Templates as :class:`bot.templates.TemplateStore` provides them."""

    def render(self, key: str, lang: str, **values: Any) -> str:
        """Render template ``key`` in ``lang``."""
        ...

    def has(self, key: str) -> bool:
        """True when template ``key`` exists."""
        ...


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """An answer and what it was about (for channels, logs and tests)."""

    text: str
    phase: str
    incident_id: str | None = None
    components: tuple[str, ...] = ()
    stale: bool = False
    as_of: datetime | None = None


class AnswerWriter:
    """Turns a snapshot and a question's components into one answer in the user's language."""

    def __init__(
        self,
        templates: TemplateSource,
        *,
        tz: tzinfo = UTC,
        stale_after: timedelta = timedelta(minutes=10),
        recent: timedelta = timedelta(hours=6),
        quote_limit: int = 480,
        rhythm: Rhythm | None = None,
    ) -> None:
        self.templates = templates
        self.rhythm = rhythm
        self.tz = tz
        self.stale_after = stale_after
        self.recent = recent
        self.quote_limit = quote_limit

    def write(
        self,
        snapshot: StatusSnapshot | None,
        *,
        components: Sequence[Component] = (),
        lang: str,
        eta: bool = False,
        confirmed_at: datetime | None,
        now: datetime,
    ) -> StatusAnswer:
        """The answer to a status question (``eta``: the user asked when it will be fixed)."""
        lang = language(lang)
        if snapshot is None or confirmed_at is None:
            return StatusAnswer(self.templates.render("status.unavailable", lang), "unavailable")
        run = _Run(self, snapshot, lang=lang, eta=eta, confirmed_at=confirmed_at, now=now)
        if components:
            return run.about_components(list(components)[:_MAX_COMPONENTS])
        return run.overall()


class _Run:
    """One answer being written."""

    def __init__(
        self,
        writer: AnswerWriter,
        snapshot: StatusSnapshot,
        *,
        lang: str,
        eta: bool,
        confirmed_at: datetime,
        now: datetime,
    ) -> None:
        self.w, self.snapshot, self.lang, self.eta, self.now = writer, snapshot, lang, eta, now
        self.confirmed_at = confirmed_at
        self.stale = now - confirmed_at > writer.stale_after
        self.parts: list[str] = []

    # --- helpers -----------------------------------------------------------
    def say(self, key: str, **values: Any) -> None:
        self.parts.append(self.w.templates.render(key, self.lang, **values))

    def time(self, moment: datetime | None) -> str:
        return format_time(moment or self.confirmed_at, lang=self.lang, tz=self.w.tz, now=self.now)

    def say_stale(self) -> None:
        if self.stale:
            self.say("status.stale", age=format_age(self.now - self.confirmed_at, lang=self.lang))

    def finish(
        self, phase: str, incident: Incident | None, names: Sequence[str] = ()
    ) -> StatusAnswer:
        return StatusAnswer(
            text=" ".join(p.strip() for p in self.parts if p.strip()),
            phase=phase,
            incident_id=incident.id if incident else None,
            components=tuple(names),
            stale=self.stale,
            as_of=self.confirmed_at,
        )

    def recent(self, moment: datetime | None) -> bool:
        return moment is not None and self.now - moment <= self.w.recent

    # --- overall answer ------------------------------------------------------
    def overall(self) -> StatusAnswer:
        as_of = self.time(self.confirmed_at)
        open_incidents = self.snapshot.open_incidents()
        if open_incidents:
            lead = open_incidents[0]
            phase = _PHASES.get(lead.status, "unknown")
            self.say(f"status.incident.{phase}", as_of=as_of, name=lead.name)
            self.say_stale()
            names = self.affected(lead)
            if names:
                self.say("status.affected", components=join_names(names, lang=self.lang))
            self.details(lead, names)
            if len(open_incidents) > 1:
                others = [i.name for i in open_incidents[1:4]]
                self.say("status.more", names=join_names(others, lang=self.lang))
            return self.finish(phase, lead, names)
        active = self.snapshot.maintenances_in(IncidentStatus.IN_PROGRESS, IncidentStatus.VERIFYING)
        if active:
            return self.maintenance(active[0], "in_progress", as_of)
        resolved = [i for i in self.snapshot.resolved_incidents() if self.recent(_closed_at(i))]
        if resolved:
            lead = resolved[0]
            self.say(
                "status.incident.resolved",
                as_of=as_of,
                name=lead.name,
                resolved=self.time(_closed_at(lead)),
            )
            self.say_stale()
            self.latest(lead)
            self.link(lead)
            return self.finish("resolved", lead, self.affected(lead))
        completed = self.snapshot.maintenances_in(IncidentStatus.COMPLETED)
        if completed and self.recent(_closed_at(completed[0])):
            return self.maintenance(completed[0], "completed", as_of)
        troubled = [
            c
            for c in self.snapshot.leaf_components()
            if c.status is not ComponentStatus.OPERATIONAL
        ]
        if troubled:  # components marked down without an incident: say exactly that
            return self.about_components(troubled[:_MAX_COMPONENTS])
        self.say("status.all_operational", as_of=as_of)
        self.say_stale()
        self.upcoming()
        return self.finish("all_operational", None)

    def maintenance(self, item: Incident, phase: str, as_of: str) -> StatusAnswer:
        key = f"status.maintenance.{phase}"
        if phase == "in_progress" and item.scheduled_until is None:
            key += "_open"  # never fill a missing end time with another time
        end = self.time(item.scheduled_until) if item.scheduled_until else ""
        self.say(key, as_of=as_of, name=item.name, end=end)
        self.say_stale()
        names = self.affected(item)
        if names and phase != "completed":
            self.say("status.affected", components=join_names(names, lang=self.lang))
        self.latest(item)
        if phase != "completed":
            self.meanwhile(names)
        self.link(item)
        return self.finish(f"maintenance_{phase}", item, names)

    def upcoming(self, components: Sequence[Component] = ()) -> None:
        """Mention the next scheduled maintenance (touching ``components`` when given)."""
        soonest = sorted(
            (
                m
                for m in self.snapshot.maintenances_in(IncidentStatus.SCHEDULED)
                if m.scheduled_for
                and m.scheduled_for > self.now
                and (not components or _touches(m, components))
            ),
            key=lambda m: m.scheduled_for or self.now,
        )
        if not soonest:
            return
        item = soonest[0]
        start = self.time(item.scheduled_for)
        if item.scheduled_until:
            end = self.time(item.scheduled_until)
            self.say("status.maintenance.scheduled", name=item.name, start=start, end=end)
        else:
            self.say("status.maintenance.scheduled_open", name=item.name, start=start)

    # --- answer about named components ---------------------------------------
    def about_components(self, components: list[Component]) -> StatusAnswer:
        as_of = self.time(self.confirmed_at)
        names = [c.name for c in components]
        if len(components) == 1:
            only = components[0]
            self.say(f"status.component.{only.status.value}", as_of=as_of, component=only.name)
        else:
            self.say("status.components.lead", as_of=as_of)
            for c in components:
                self.say(f"status.state.{c.status.value}", component=c.name)
        self.say_stale()
        related = [i for i in self.snapshot.open_incidents() if _touches(i, components)]
        if not related:
            related = [
                i
                for i in self.snapshot.resolved_incidents()
                if _touches(i, components) and self.recent(_closed_at(i))
            ]
        if related:
            lead = related[0]
            phase = _PHASES.get(lead.status, "unknown")
            self.say(f"status.note.{phase}", name=lead.name, resolved=self.time(_closed_at(lead)))
            self.details(lead, names)
            return self.finish(phase, lead, names)
        self.upcoming(components)
        others = self.snapshot.open_incidents()
        if others:
            self.say(
                "status.other_incidents",
                names=join_names([i.name for i in others[:3]], lang=self.lang),
            )
        if any(c.status is not ComponentStatus.OPERATIONAL for c in components):
            self.meanwhile(names)
        return self.finish("component", None, names)

    # --- shared details ----------------------------------------------------------
    def details(self, incident: Incident, names: Sequence[str]) -> None:
        """Since, latest update quote, estimate, meanwhile advice and link."""
        if incident.is_open and incident.since:
            self.say("status.since", since=self.time(incident.since))
        self.latest(incident)
        late = self.overdue(incident)
        linked = False
        if incident.is_open:
            linked = self.estimate(incident, late=late)
            self.meanwhile(names)
        if not linked:
            self.link(incident)

    def latest(self, incident: Incident) -> None:
        update = incident.latest_update
        if update and update.body.strip():
            self.say(
                "status.latest",
                update=quote(update.body, limit=self.w.quote_limit),
                update_time=self.time(update.display_at or incident.updated_at),
            )

    def overdue(self, incident: Incident) -> bool:
        """Say honestly that the next update is late (never a new time); True if it is."""
        rhythm = self.w.rhythm
        if rhythm is None:
            return False
        due = next_update_due(incident, rhythm=rhythm, tz=self.w.tz)
        if due is None or not due.overdue(self.now, rhythm.grace):
            return False
        if due.reason is DueReason.PROMISED:
            self.say("status.overdue.promised", due=self.time(due.due_at))
        else:
            self.say("status.overdue.rhythm", update_time=self.time(due.last_update_at))
        return True

    def estimate(self, incident: Incident, *, late: bool = False) -> bool:
        """Quote an estimate an update gave; if asked and none, say so. True if a link was given."""
        for update in incident.updates:
            sentence = find_eta(quote(update.body, limit=10_000))
            if sentence:
                self.say("status.eta.given", eta=sentence, eta_time=self.time(update.display_at))
                return False
        if not self.eta:
            return False
        self.say("status.eta.none")
        latest = incident.latest_update
        promise = find_next_update(quote(latest.body, limit=10_000)) if latest else None
        if promise and not late:  # a broken promise is not quoted as if it still held
            self.say("status.eta.next_update", text=promise)
        link = incident.shortlink or self.snapshot.page.url
        when = self.time(latest.display_at if latest else incident.updated_at)
        if link:
            self.say("status.eta.where", link=link, update_time=when)
            return True
        self.say("status.eta.where_no_link", update_time=when)
        return False

    def meanwhile(self, names: Sequence[str]) -> None:
        for name in names:
            key = f"status.meanwhile.{slug(name)}"
            if self.w.templates.has(key):
                self.say(key)

    def link(self, incident: Incident) -> None:
        link = incident.shortlink or self.snapshot.page.url
        if link:
            self.say("status.link", link=link)

    def affected(self, incident: Incident) -> list[str]:
        """The components an incident affects now (per its latest update), else ever."""
        latest = incident.latest_update
        if incident.is_open and latest and latest.affected:
            hit = [
                a.name for a in latest.affected if a.new_status is not ComponentStatus.OPERATIONAL
            ]
            if hit:
                return hit
        return list(incident.affected_names())


def _touches(incident: Incident, components: Sequence[Component]) -> bool:
    names = set(incident.affected_names())
    ids = {c.id for c in incident.components} | {
        a.code for u in incident.updates for a in u.affected
    }
    return any(c.name in names or c.id in ids for c in components)


def _closed_at(incident: Incident) -> datetime | None:
    return incident.resolved_at or incident.updated_at
