"""FAQ files for import and export: YAML (the FAQ contract) and CSV (for spreadsheets).

CSV has one row per entry: ``id, tags, question_<lang>, paraphrases_<lang>,
answer_<lang>`` for each language. Tags are separated by ``|`` or commas;
paraphrases one per line (or separated by ``|``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.core.languages import LANGUAGES
from bot.faqdb.codec import SCHEMA_VERSION, entries_from_dicts, entry_to_dict
from faq_index import FaqEntry, FaqFileError, parse_faq_text

Format = Literal["yaml", "csv"]

_TEXT_COLUMN = re.compile(r"^(question|paraphrases|answer)_([a-z]{2}(?:[-_][a-z0-9]{2,4})?)$")
_MAIN_LANGS = LANGUAGES
_SPLIT_TAGS = re.compile(r"[|,\n]")
_SPLIT_PARAPHRASES = re.compile(r"[|\n]")


def format_of(path: Path, explicit: str | None = None) -> Format:
    """The file format: ``explicit``, else from the suffix (.csv, else YAML)."""
    if explicit:
        return "csv" if explicit == "csv" else "yaml"
    return "csv" if path.suffix.lower() == ".csv" else "yaml"


def read_entries(path: Path, fmt: Format | None = None) -> list[FaqEntry]:
    """Read and validate a YAML or CSV FAQ file; raises ``FaqFileError`` (file, entry, reason)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FaqFileError(str(path), None, f"cannot read file ({exc})") from exc
    if (fmt or format_of(path)) == "csv":
        return parse_csv(text, str(path))
    return parse_faq_text(text, str(path))


def parse_csv(text: str, source: str = "<csv>") -> list[FaqEntry]:
    """Parse and validate CSV text with one entry per row."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise FaqFileError(source, None, f"invalid CSV: {exc}") from exc
    if not rows:
        raise FaqFileError(source, None, "empty file: expected a header row")
    header = [h.strip().lower() for h in rows[0]]
    _check_header(header, source)
    raws: list[dict[str, Any]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise FaqFileError(source, None, f"row {number}: more cells than columns")
        raw = _row_to_dict(dict(zip(header, row, strict=False)))
        entries_from_dicts([raw], f"{source}: row {number}")  # names the row on error
        raws.append(raw)
    if not raws:
        raise FaqFileError(source, None, "no entries (only a header row)")
    return _validated(raws, source)


def _validated(raws: list[dict[str, Any]], source: str) -> list[FaqEntry]:
    seen: set[str] = set()
    for raw in raws:
        if raw["id"] in seen:
            raise FaqFileError(source, raw["id"], "duplicate id")
        seen.add(raw["id"])
    return entries_from_dicts(raws, source)


def _check_header(header: list[str], source: str) -> None:
    if "id" not in header:
        raise FaqFileError(source, None, "the header row has no 'id' column")
    for name in header:
        if name not in ("id", "tags") and not _TEXT_COLUMN.match(name):
            raise FaqFileError(
                source, None, f"unknown column {name!r} (expected id, tags, question_en, ...)"
            )
    if len(set(header)) != len(header):
        raise FaqFileError(source, None, "the header row repeats a column")


def _row_to_dict(cells: dict[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": cells.get("id", "").strip()}
    tags = [t.strip() for t in _SPLIT_TAGS.split(cells.get("tags", "")) if t.strip()]
    if tags:
        raw["tags"] = tags
    for name, value in cells.items():
        match = _TEXT_COLUMN.match(name)
        if not match or not value.strip():
            continue
        kind, lang = match.groups()
        if kind == "paraphrases":
            items = [p.strip() for p in _SPLIT_PARAPHRASES.split(value) if p.strip()]
            raw.setdefault("paraphrases", {})[lang] = items
        else:
            raw.setdefault(kind, {})[lang] = value.strip()
    return raw


def dump_yaml(entries: Sequence[FaqEntry]) -> str:
    """Entries as an FAQ file (schema version 1)."""
    doc = {"version": SCHEMA_VERSION, "faqs": [entry_to_dict(e) for e in entries]}
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def dump_csv(entries: Sequence[FaqEntry]) -> str:
    """Entries as CSV, one row per entry, columns per language (en, es first)."""
    used = {lang for e in entries for lang in (*e.question, *e.answer, *e.paraphrases)}
    langs = [*_MAIN_LANGS, *sorted(used - set(_MAIN_LANGS))]
    header = ["id", "tags"]
    header += [f"question_{lang}" for lang in langs]
    header += [f"paraphrases_{lang}" for lang in langs]
    header += [f"answer_{lang}" for lang in langs]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for e in entries:
        row = [e.id, " | ".join(e.tags)]
        row += [e.question.get(lang, "") for lang in langs]
        row += ["\n".join(e.paraphrases.get(lang, ())) for lang in langs]
        row += [e.answer.get(lang, "") for lang in langs]
        writer.writerow(row)
    return out.getvalue()
