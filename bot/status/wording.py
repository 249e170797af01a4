"""Times, ages, lists and quotes in words customers read, in English or Spanish."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo

_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
}
_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</?(p|br|li|ul|ol|div|h\d)\b[^>]*>", re.IGNORECASE)


def language(lang: str | None) -> str:
    """The supported language for a language tag ("es-MX" -> "es"; anything else -> "en")."""
    return "es" if (lang or "").lower().startswith("es") else "en"


def format_time(moment: datetime, *, lang: str, tz: tzinfo = UTC, now: datetime) -> str:
    """'14:05 UTC' today; '14:05 UTC on 3 May' (en) / '14:05 UTC del 3 de mayo' (es) otherwise."""
    local, today = moment.astimezone(tz), now.astimezone(tz)
    zone = local.tzname() or "UTC"
    clock = f"{local:%H:%M} {zone}"
    if local.date() == today.date():
        return clock
    month = _MONTHS[language(lang)].split()[local.month - 1]
    year = f" {local.year}" if local.year != today.year else ""
    if language(lang) == "es":
        return f"{clock} del {local.day} de {month}" + (f" de {local.year}" if year else "")
    return f"{clock} on {local.day} {month}{year}"


def format_age(age: timedelta, *, lang: str) -> str:
    """'6 minutes', '2 hours 5 minutes' / '6 minutos', '2 horas y 5 minutos'."""
    es = language(lang) == "es"
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 1:
        return "menos de un minuto" if es else "less than a minute"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    units = (
        (days, "día", "días", "day", "days"),
        (hours, "hora", "horas", "hour", "hours"),
        (minutes, "minuto", "minutos", "minute", "minutes"),
    )
    parts = [
        f"{n} {(one_es if n == 1 else many_es) if es else (one_en if n == 1 else many_en)}"
        for n, one_es, many_es, one_en, many_en in units
        if n
    ][:2]
    return (" y " if es else " ").join(parts)


def join_names(names: Sequence[str], *, lang: str) -> str:
    """'A', 'A and B', 'A, B and C' (es: 'y')."""
    conjunction = " y " if language(lang) == "es" else " and "
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + conjunction + names[-1]


def plain_text(body: str) -> str:
    """Update text as plain text: HTML tags out, entities decoded, whitespace collapsed."""
    text = _BLOCK.sub(" ", body) if "<" in body else body
    text = html.unescape(_TAG.sub("", text))
    return " ".join(text.split())


def quote(body: str, *, limit: int = 480) -> str:
    """The update text to quote, cut at a sentence (or word) boundary past ``limit``."""
    text = plain_text(body)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if end > limit // 3:
        return cut[: end + 1] + " …"
    return cut.rsplit(" ", 1)[0] + " …"


def slug(name: str) -> str:
    """A template-key form of a component name: 'Card payments' -> 'card_payments'."""
    return re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")
