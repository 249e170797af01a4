"""The "to review" list on the shipped demo data: the ATM drift is caught, and now agrees."""

from __future__ import annotations

import json
from pathlib import Path

from bot.rhythm.review import to_review
from bot.status.components import ComponentMatcher, load_aliases
from bot.status.model import ComponentStatus
from bot.status.statuspage import loads
from faq_index.entries import FaqEntry
from faq_index.loader import load_faq_files
from tests.helpers.status_builders import ALIASES, PROJECT, SAMPLE_FEED

MATCHER = ComponentMatcher(load_aliases(ALIASES))


def sample_entries() -> list[FaqEntry]:
    return load_faq_files(PROJECT / "data" / "faq")


def test_the_demo_incident_lists_the_atm_entry_with_what_the_page_says() -> None:
    snapshot = loads(SAMPLE_FEED.read_text())
    items = to_review(snapshot, matcher=MATCHER, entries=sample_entries())
    atm = [i for i in items if i.key == "atm-withdrawals" and i.component == "ATMs"]
    assert atm, "the ATM entry is about a component the incident names"
    [item] = atm
    assert item.component_status is ComponentStatus.OPERATIONAL
    assert item.reason == "tag"
    assert "ATMs are not affected" in item.page_says
    cards = {i.key for i in items if i.component == "Card payments"}
    assert "card-payments-failing" in cards
    assert all(i.kind == "faq" for i in items)


def test_the_demo_faq_no_longer_says_atms_may_fail() -> None:
    entry = next(e for e in sample_entries() if e.id == "atm-withdrawals")
    for text in entry.answer.values():
        assert "may also fail" not in text and "también pueden fallar" not in text
    assert "status page" in entry.answer["en"]


def test_templates_about_a_component_are_listed_and_nothing_without_an_incident(
    tmp_path: Path,
) -> None:
    snapshot = loads(SAMPLE_FEED.read_text())
    templates = {
        "greet": {"en": "Hi! Ask about your card."},
        "status.latest": {"en": "Latest update: {update}"},
        "goodbye": {"en": "Bye."},
    }
    items = to_review(snapshot, matcher=MATCHER, entries=[], templates=templates)
    assert [(i.kind, i.key, i.component, i.reason) for i in items] == [
        ("template", "greet", "Card payments", "content")
    ]
    quiet = json.loads(SAMPLE_FEED.read_text())
    quiet["incidents"] = []
    assert to_review(loads(json.dumps(quiet)), matcher=MATCHER, entries=sample_entries()) == []
