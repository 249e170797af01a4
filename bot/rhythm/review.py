"""One message everywhere: the FAQ entries and templates to review while an incident is open.

For each open incident, the components it affects and the ones its latest
update names (an update saying "ATMs are not affected" names ATMs: an FAQ
entry claiming ATM withdrawals may fail must be looked at too). An FAQ entry
or a template is "about" a component by its tags, or by the component's name
or aliases in its text; each item says what the status page says now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.status.components import ComponentMatcher
from bot.status.model import ComponentStatus, Incident, StatusSnapshot
from bot.status.wording import quote
from faq_index.entries import FaqEntry


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """An FAQ entry or template to check against what the status page says now."""

    kind: str  # "faq" | "template"
    key: str  # the entry id or the template key
    text: str  # its English text (or the first language it has)
    component: str
    component_status: ComponentStatus
    reason: str  # "tag" | "content"
    incident_id: str
    incident_name: str
    page_says: str  # the latest update, quoted
    phase: str = ""  # the incident's phase key (status and components): see phase_of
    phase_since: datetime | None = None  # when the incident entered that phase
    update_id: str = ""  # its latest update


def to_review(
    snapshot: StatusSnapshot | None,
    *,
    matcher: ComponentMatcher,
    entries: Iterable[FaqEntry],
    templates: Mapping[str, Mapping[str, str]] = {},
) -> list[ReviewItem]:
    """What staff should review for the open incidents of ``snapshot``, incident by incident."""
    if snapshot is None:
        return []
    entries = list(entries)
    items: list[ReviewItem] = []
    seen: set[tuple[str, str, str]] = set()
    for incident in snapshot.open_incidents():
        latest = incident.latest_update
        said = quote(latest.body, limit=300) if latest else ""
        names = _components_of(incident, snapshot, matcher, said)
        phase, since = phase_of(incident), phase_since(incident)
        update_id = latest.id if latest else ""
        for name in names:
            component = snapshot.component(name)
            status = component.status if component else ComponentStatus.UNKNOWN
            for entry in entries:
                reason = _about(entry.tags, _entry_text(entry), name, snapshot, matcher)
                if reason and ("faq", entry.id, name) not in seen:
                    seen.add(("faq", entry.id, name))
                    items.append(
                        ReviewItem(
                            "faq", entry.id, _first(entry.answer), name, status, reason,
                            incident.id, incident.name, said, phase, since, update_id,
                        )
                    )  # fmt: skip
            for key, langs in templates.items():
                if key.startswith(("status.", "broadcast.", "drill.", "alert.")):
                    continue  # generic wording filled from the live status
                reason = _about((), " ".join(langs.values()), name, snapshot, matcher)
                if reason and ("template", key, name) not in seen:
                    seen.add(("template", key, name))
                    items.append(
                        ReviewItem(
                            "template", key, _first(langs), name, status, reason,
                            incident.id, incident.name, said, phase, since, update_id,
                        )
                    )  # fmt: skip
    return items


def phase_of(incident: Incident) -> str:
    """The incident's phase key: its status and the components it affects (hashed).

    A confirmation holds for one phase: when the incident changes status
    (investigating, identified, ...) or the components it affects, the items
    come back to be reviewed again.
    """
    names = sorted(n.lower() for n in incident.affected_names())
    text = "\n".join([incident.status.value, *names])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def phase_since(incident: Incident) -> datetime | None:
    """When the incident's current status began (its oldest update in a row with that status)."""
    updates = sorted(
        (u for u in incident.updates if (u.display_at or u.created_at) is not None),
        key=lambda u: u.display_at or u.created_at,  # type: ignore[return-value, arg-type]
    )
    since: datetime | None = None
    for update in reversed(updates):
        if update.status != incident.status:
            break
        since = update.display_at or update.created_at
    return since or incident.updated_at or incident.created_at


def _components_of(
    incident: Incident, snapshot: StatusSnapshot, matcher: ComponentMatcher, said: str
) -> list[str]:
    names = list(incident.affected_names())
    names += [c.name for c in matcher.match(said, snapshot)]
    return list(dict.fromkeys(names))


def _about(
    tags: Sequence[str], text: str, name: str, snapshot: StatusSnapshot, matcher: ComponentMatcher
) -> str | None:
    for tag in tags:
        if any(c.name == name for c in matcher.match(tag.replace("-", " "), snapshot)):
            return "tag"
    if any(c.name == name for c in matcher.match(text, snapshot)):
        return "content"
    return None


def _entry_text(entry: FaqEntry) -> str:
    return " ".join([*entry.question.values(), *entry.answer.values()])


def _first(texts: Mapping[str, str]) -> str:
    return texts.get("en") or next(iter(texts.values()), "")
