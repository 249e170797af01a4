"""Fixtures for the FAQ index tests."""

from __future__ import annotations

import pytest

from faq_index import FaqEntry, FaqIndex, HashingEncoder, parse_faq_text
from tests.helpers.faq_builders import OUTAGE_FAQ_YAML


@pytest.fixture
def outage_entries() -> list[FaqEntry]:
    """A small bilingual outage FAQ."""
    return parse_faq_text(OUTAGE_FAQ_YAML, "outage.yml")


@pytest.fixture
def outage_index(outage_entries: list[FaqEntry]) -> FaqIndex:
    """The outage FAQ indexed with the hashing encoder."""
    return FaqIndex.build(outage_entries, HashingEncoder())
