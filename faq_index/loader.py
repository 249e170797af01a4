"""Load and validate FAQ files (schema version 1) into :class:`FaqEntry` objects."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from faq_index.entries import FaqEntry
from faq_index.errors import FaqFileError

SCHEMA_VERSION = 1
FAQ_SUFFIXES = (".yml", ".yaml")

_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
# ISO 639-1 codes, optionally with a region (``pt-br``); unknown languages are fine.
_LANG = re.compile(r"^[a-z]{2}(?:[-_][a-z0-9]{2,4})?$")


def load_faq_files(paths: Iterable[str | Path] | str | Path) -> list[FaqEntry]:
    """Load every FAQ file in ``paths`` (files or folders of *.yml/*.yaml), validated."""
    if isinstance(paths, str | Path):
        paths = [paths]
    entries: list[FaqEntry] = []
    seen: dict[str, str] = {}
    for file in _expand(paths):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FaqFileError(str(file), None, f"cannot read file ({exc})") from exc
        for entry in parse_faq_text(text, str(file)):
            if entry.id in seen:
                raise FaqFileError(
                    str(file), entry.id, f"duplicate id (already defined in {seen[entry.id]})"
                )
            seen[entry.id] = str(file)
            entries.append(entry)
    return entries


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in FAQ_SUFFIXES and p.is_file())
            if not found:
                raise FaqFileError(str(path), None, "no *.yml or *.yaml FAQ files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise FaqFileError(str(path), None, "no such file or folder")
    return files


def parse_faq_text(text: str, source: str = "<text>") -> list[FaqEntry]:
    """Parse and validate one FAQ document (YAML text); ``source`` names it in errors."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise FaqFileError(source, None, f"invalid YAML{where}: {problem}") from exc
    if not isinstance(doc, dict):
        raise FaqFileError(source, None, "expected a mapping with 'version' and 'faqs'")
    version = doc.get("version")
    if version != SCHEMA_VERSION:
        raise FaqFileError(
            source, None, f"unsupported version {version!r} (expected {SCHEMA_VERSION})"
        )
    faqs = doc.get("faqs")
    if not isinstance(faqs, list):
        raise FaqFileError(source, None, "'faqs' must be a list of entries")
    entries: list[FaqEntry] = []
    seen: set[str] = set()
    for position, raw in enumerate(faqs, start=1):
        entry = _parse_entry(raw, position, source)
        if entry.id in seen:
            raise FaqFileError(source, entry.id, "duplicate id")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def _parse_entry(raw: Any, position: int, source: str) -> FaqEntry:
    if not isinstance(raw, dict):
        raise FaqFileError(source, position, "an entry must be a mapping")
    faq_id = raw.get("id")
    if not isinstance(faq_id, str) or not faq_id:
        raise FaqFileError(source, position, "missing 'id'")
    if not _SLUG.match(faq_id):
        raise FaqFileError(
            source, faq_id, "id must be a slug (lowercase letters, digits, '-' or '_')"
        )
    question = _text_map(raw.get("question"), "question", faq_id, source)
    answer = _text_map(raw.get("answer"), "answer", faq_id, source)
    if not set(question) & set(answer):
        raise FaqFileError(
            source, faq_id, "needs a question and an answer in at least one same language"
        )
    paraphrases = _paraphrases(raw.get("paraphrases"), faq_id, source)
    tags = _tags(raw.get("tags"), faq_id, source)
    return FaqEntry(
        id=faq_id,
        question=question,
        answer=answer,
        paraphrases=paraphrases,
        tags=tags,
        source=source,
    )


def _check_lang(lang: Any, field: str, faq_id: str, source: str) -> str:
    if not isinstance(lang, str) or not _LANG.match(lang):
        raise FaqFileError(
            source, faq_id, f"'{field}' has an invalid language code {lang!r} (use e.g. en, es)"
        )
    return lang


def _text_map(value: Any, field: str, faq_id: str, source: str) -> dict[str, str]:
    if value is None:
        raise FaqFileError(source, faq_id, f"missing '{field}'")
    if not isinstance(value, dict) or not value:
        raise FaqFileError(source, faq_id, f"'{field}' must map a language to text (e.g. en: ...)")
    out: dict[str, str] = {}
    for lang, text in value.items():
        _check_lang(lang, field, faq_id, source)
        if not isinstance(text, str) or not text.strip():
            raise FaqFileError(source, faq_id, f"'{field}.{lang}' must be non-empty text")
        out[lang] = text.strip()
    return out


def _paraphrases(value: Any, faq_id: str, source: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FaqFileError(source, faq_id, "'paraphrases' must map a language to a list of texts")
    out: dict[str, tuple[str, ...]] = {}
    for lang, items in value.items():
        _check_lang(lang, "paraphrases", faq_id, source)
        if not isinstance(items, list):
            raise FaqFileError(source, faq_id, f"'paraphrases.{lang}' must be a list of texts")
        texts: list[str] = []
        for item in items:
            if not isinstance(item, str) or not item.strip():
                raise FaqFileError(
                    source, faq_id, f"'paraphrases.{lang}' must contain only non-empty texts"
                )
            texts.append(item.strip())
        out[lang] = tuple(texts)
    return out


def _tags(value: Any, faq_id: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) and t for t in value):
        raise FaqFileError(source, faq_id, "'tags' must be a list of texts")
    return tuple(value)
