"""FAQ entries to and from plain dicts in the FAQ file contract (schema version 1)."""

from __future__ import annotations

import json
from typing import Any

from bot.faqdb.errors import InvalidEntry
from faq_index import FaqEntry, FaqFileError, parse_faq_text

SCHEMA_VERSION = 1


def entry_to_dict(entry: FaqEntry) -> dict[str, Any]:
    """The entry as a dict in the FAQ contract (optional fields only when set)."""
    out: dict[str, Any] = {"id": entry.id}
    if entry.tags:
        out["tags"] = list(entry.tags)
    out["question"] = dict(entry.question)
    if any(entry.paraphrases.values()):
        out["paraphrases"] = {k: list(v) for k, v in entry.paraphrases.items() if v}
    out["answer"] = dict(entry.answer)
    return out


def entry_from_dict(raw: dict[str, Any], source: str = "<entry>") -> FaqEntry:
    """Validate one entry dict exactly as an FAQ file entry is validated."""
    return entries_from_dicts([raw], source)[0]


def entries_from_dicts(raws: list[dict[str, Any]], source: str) -> list[FaqEntry]:
    """Validate entry dicts as one FAQ document; raises ``FaqFileError``."""
    # JSON is YAML: reuse the one validator of the FAQ contract.
    doc = json.dumps({"version": SCHEMA_VERSION, "faqs": raws}, ensure_ascii=False)
    return parse_faq_text(doc, source)


def validate_edit(raw: dict[str, Any]) -> FaqEntry:
    """Validate an entry from an editor; raises :class:`InvalidEntry` with one clear sentence."""
    for field in ("answer", "question"):
        texts = raw.get(field) or {}
        if not isinstance(texts, dict):  # found by the property tests (tests/fuzz)
            raise InvalidEntry(f"the {field} must map languages to text, like {{en: ...}}")
        if not any(str(t).strip() for t in texts.values()):
            raise InvalidEntry(f"the {field} is empty: write it in at least one language")
    try:
        return entry_from_dict(raw, "entry")
    except FaqFileError as exc:
        raise InvalidEntry(exc.reason) from exc


def to_json(entry: FaqEntry) -> str:
    """The stored form of an entry's content."""
    return json.dumps(entry_to_dict(entry), ensure_ascii=False, sort_keys=True)


def from_json(text: str, source: str) -> FaqEntry:
    """An entry from its stored form (validated again: the database is a boundary too)."""
    return entry_from_dict(json.loads(text), source)
