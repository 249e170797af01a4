"""What changed in the status, and how to say it to a subscriber on their channel.

:func:`status_events` compares a snapshot with what was already broadcast
(unique keys, kept in the database, so a restart or a second replica does not
repeat anything) and yields one event per incident that got a new update, and
one per component whose status changed outside any incident update.
:class:`Composer` words an event from the staff-editable templates, in the
subscriber's language, with the footer of their channel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from bot.status.eta import find_next_update
from bot.status.model import Component, ComponentStatus, Incident, IncidentUpdate, StatusSnapshot
from bot.status.wording import format_time, plain_text, quote

# Updates older than this when first seen are history, not news (a first start,
# a feed that lists old incidents): recorded, never sent.
DEFAULT_MAX_AGE = timedelta(hours=6)


class Templates(Protocol):
    """Staff-editable templates (``bot.templates.TemplateStore``)."""

    def render(self, key: str, lang: str, **values: Any) -> str:
        """Render ``key`` in ``lang``."""
        ...

    def has(self, key: str) -> bool:
        """True when ``key`` exists."""
        ...


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """One thing subscribers should hear about."""

    key: str
    kind: str  # "new", "update", "resolved", "component"
    incident: Incident | None = None
    update: IncidentUpdate | None = None
    component: Component | None = None
    changed: tuple[Component, ...] = ()  # component states to mention
    superseded: tuple[str, ...] = ()  # older update keys consumed by this event

    @property
    def component_names(self) -> tuple[str, ...]:
        """The components the event concerns (who should hear of it)."""
        if self.incident is not None:
            return self.incident.affected_names()
        return (self.component.name,) if self.component else ()

    @property
    def title(self) -> str:
        """A one-line label for staff."""
        if self.incident is not None:
            return self.incident.name
        return self.component.name if self.component else self.key


def update_key(incident: Incident, update: IncidentUpdate | None) -> str:
    """The broadcast key of one incident update."""
    if update is None:
        return f"incident:{incident.id}:{incident.status.value}"
    return f"update:{incident.id}:{update.id}"


def component_key(component: Component, snapshot: StatusSnapshot) -> str:
    """The broadcast key of a component reaching a status (same on every replica)."""
    moment = snapshot.as_of or snapshot.fetched_at
    stamp = moment.isoformat() if moment else "?"
    return f"component:{component.id}:{component.status.value}:{stamp}"


@dataclass(kw_only=True)
class EventFinder:
    """Finds the events in a snapshot that were not broadcast yet."""

    known: Callable[[Iterable[str]], set[str]]
    max_age: timedelta = DEFAULT_MAX_AGE
    last_states: dict[str, ComponentStatus] = field(default_factory=dict)

    def events(
        self, snapshot: StatusSnapshot, *, now: datetime
    ) -> tuple[list[StatusEvent], list[str]]:
        """(events to broadcast, keys to record as seen without sending)."""
        events: list[StatusEvent] = []
        seen: list[str] = []
        incidents = [*snapshot.incidents, *snapshot.maintenances]
        keys = {
            i.id: [update_key(i, u) for u in i.updates] or [update_key(i, None)] for i in incidents
        }
        known = self.known(k for ks in keys.values() for k in ks)
        mentioned: set[str] = set()
        for incident in incidents:
            incident_keys = keys[incident.id]
            fresh = [k for k in incident_keys if k not in known]
            if not fresh:
                continue
            latest = incident.latest_update
            latest_key = incident_keys[0]
            when = (latest.display_at or latest.created_at) if latest else incident.updated_at
            recent = when is None or when >= now - self.max_age
            if latest_key not in fresh or not recent or incident.status.value == "scheduled":
                seen.extend(fresh)
                continue
            if not incident.is_open:
                kind = "resolved"
            elif len(fresh) == len(incident_keys):
                kind = "new"
            else:
                kind = "update"
            affected = incident.affected_names()
            changed = tuple(c for c in snapshot.leaf_components() if c.name in affected)
            mentioned.update(c.id for c in changed)
            events.append(
                StatusEvent(
                    key=latest_key,
                    kind=kind,
                    incident=incident,
                    update=latest,
                    changed=changed,
                    superseded=tuple(k for k in fresh if k != latest_key),
                )
            )
        events.extend(self._component_events(snapshot, mentioned))
        return events, seen

    def _component_events(self, snapshot: StatusSnapshot, mentioned: set[str]) -> list[StatusEvent]:
        first = not self.last_states
        events = []
        for component in snapshot.leaf_components():
            before = self.last_states.get(component.id)
            self.last_states[component.id] = component.status
            if first or before is None or before == component.status:
                continue
            if component.id in mentioned or component.status is ComponentStatus.UNKNOWN:
                continue
            events.append(
                StatusEvent(
                    key=component_key(component, snapshot),
                    kind="component",
                    component=component,
                    changed=(component,),
                )
            )
        return events


class Composer:
    """Words events and announcements per language and channel, from templates."""

    def __init__(self, templates: Templates, *, tz: tzinfo = UTC) -> None:
        self._templates = templates
        self._tz = tz

    def event_text(
        self, event: StatusEvent, lang: str, channel: str, *, now: datetime, asker: bool = False
    ) -> str:
        """The message about ``event`` for one subscriber (``asker``: asked, not subscribed)."""
        t = self._templates
        lines: list[str] = []
        if event.incident is not None:
            incident = event.incident
            head = "asker_resolved" if asker else event.kind
            lines.append(t.render(f"broadcast.headline.{head}", lang, name=incident.name))
            phase = f"broadcast.phase.{incident.status.value}"
            if t.has(phase):
                lines.append(t.render(phase, lang))
            update = event.update
            if update is not None and update.body.strip():
                moment = update.display_at or update.created_at
                time_text = format_time(moment, lang=lang, tz=self._tz, now=now) if moment else ""
                lines.append(
                    t.render(
                        "broadcast.latest", lang, update_time=time_text, update=quote(update.body)
                    )
                )
                next_update = find_next_update(plain_text(update.body))
                if next_update and incident.is_open:
                    lines.append(t.render("broadcast.next_update", lang, text=quote(next_update)))
            if event.changed and incident.is_open:
                lines.append(self._states(event.changed, lang))
            if incident.shortlink:
                lines.append(t.render("broadcast.link", lang, link=incident.shortlink))
        elif event.component is not None:
            lines.append(
                t.render("broadcast.headline.component", lang, component=event.component.name)
            )
            lines.append(self._states(event.changed, lang))
        lines.append(self.footer(lang, channel, subscribed=not asker))
        return "\n".join(line for line in lines if line)

    def announcement_text(self, texts: Mapping[str, str], lang: str, channel: str) -> str:
        """A staff announcement in ``lang`` (falling back to English), with the channel's footer."""
        body = (texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")).strip()
        head = self._templates.render("broadcast.headline.announcement", lang)
        return "\n".join(x for x in (head, body, self.footer(lang, channel)) if x)

    def footer(self, lang: str, channel: str, *, subscribed: bool = True) -> str:
        """How to stop updates, said the way the channel works."""
        if not subscribed:
            return self._templates.render("broadcast.footer.asker", lang)
        key = f"broadcast.footer.{channel}"
        return self._templates.render(key if self._templates.has(key) else "broadcast.footer", lang)

    def _states(self, components: Iterable[Component], lang: str) -> str:
        states = [
            self._templates.render(f"status.state.{c.status.value}", lang, component=c.name)
            for c in components
        ]
        return self._templates.render("broadcast.components", lang, states=" ".join(states))
