"""Admin forms: reading url-encoded bodies and mapping entry forms to the FAQ contract."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request

from bot.core.languages import LANGUAGES
from bot.faqdb.codec import entry_to_dict
from bot.http import HttpError, read_body
from faq_index import FaqEntry

MAX_FORM_BYTES = 64 * 1024
FORM_LANGS = LANGUAGES
_TAG_SPLIT = re.compile(r"[,\n|]")


class BadForm(Exception):
    """The request body is not a url-encoded form we accept."""


async def read_form(request: Request) -> dict[str, str]:
    """The url-encoded form in the body (first value of each field); raises :class:`BadForm`."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise BadForm("expected a url-encoded form")
    try:
        body = await read_body(request, max_bytes=MAX_FORM_BYTES)
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (HttpError, UnicodeDecodeError, ValueError) as exc:
        raise BadForm("unreadable form") from exc
    return {k: v[0] for k, v in parsed.items() if v}


def form_to_dict(form: dict[str, str], base: FaqEntry | None = None) -> dict[str, Any]:
    """An entry dict from the form's en/es fields; other languages of ``base`` are kept."""
    raw: dict[str, Any] = entry_to_dict(base) if base else {}
    raw["id"] = base.id if base else form.get("id", "").strip().lower()
    tags = [t.strip() for t in _TAG_SPLIT.split(form.get("tags", "")) if t.strip()]
    raw.pop("tags", None)
    if tags:
        raw["tags"] = tags
    for kind in ("question", "answer", "paraphrases"):
        values: dict[str, Any] = dict(raw.get(kind) or {})
        for lang in FORM_LANGS:
            text = form.get(f"{kind}_{lang}", "").strip()
            values.pop(lang, None)
            if kind == "paraphrases":
                items = [line.strip() for line in text.splitlines() if line.strip()]
                if items:
                    values[lang] = items
            elif text:
                values[lang] = text
        raw.pop(kind, None)
        if values:
            raw[kind] = values
    return raw


def entry_to_form(entry: FaqEntry) -> dict[str, str]:
    """The form fields showing ``entry``."""
    form = {"id": entry.id, "tags": ", ".join(entry.tags)}
    for lang in FORM_LANGS:
        form[f"question_{lang}"] = entry.question.get(lang, "")
        form[f"answer_{lang}"] = entry.answer.get(lang, "")
        form[f"paraphrases_{lang}"] = "\n".join(entry.paraphrases.get(lang, ()))
    return form
