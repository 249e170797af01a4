"""One message everywhere: the FAQ entries and templates to review while an incident is open.

For each open incident, the components it affects and the ones its latest
update names (an update saying "ATMs are not affected" names ATMs: an FAQ
entry claiming ATM withdrawals may fail must be looked at too). An FAQ entry
or a template is "about" a component by its tags, or by the component's name
or aliases in its text; each item says what the status page says now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

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
                            incident.id, incident.name, said,
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
                            incident.id, incident.name, said,
                        )
                    )  # fmt: skip
    return items


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
