"""Find what an update's text says about time: an estimate for a fix, or the next update.

Faro never computes an estimate: it only quotes the sentence in which the
status page gave one.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")

_NEXT_UPDATE = re.compile(
    r"next update|another update|further update|provide (an )?update|update (you|again)"
    r"|\bwill (post |share |provide |send )?(an? |more )?updates?\b|post (an )?update"
    r"|próxima actualización|nueva actualización|actualizaremos|informaremos",
    re.IGNORECASE,
)
# Phrases that are an estimate by themselves.
_STRONG = re.compile(
    r"\beta\b|estimated (time|resolution|completion|fix)|hora estimada|tiempo estimado"
    r"|\bestimamos\b|\bprevemos\b",
    re.IGNORECASE,
)
# A time expression counts only in a sentence about the future
# ("within two minutes of being alerted we reverted" is history, not an estimate).
_FUTURE = re.compile(
    r"\b(will|should|shall|expect\w*|anticipate\w*|aim|hope|plan|target\w*|estimate\w*)\b"
    r"|'\s?ll\b|\b\w+(rá|rán)\b|\besperamos\b",
    re.IGNORECASE,
)
_WHEN = re.compile(
    r"\b(by|before|around|until)\s+(\d{1,2}(:\d{2})?\s*(am|pm|utc|gmt|[a-z]{2,4}t)?\b"
    r"|tomorrow|tonight|end of (the )?day|midnight|noon)"
    r"|\b(within|in)\s+(the next |about |around |approximately )?"
    r"(\d+|a few|an?|one|two|three|few|several)\s+(minutes?|hours?|days?)"
    r"|\b(shortly|soon)\b"
    r"|\b(en|dentro de) (las |los )?(próximas |próximos )?(\d+|unos|unas|pocos|pocas|un par de) "
    r"(minutos|horas|días)"
    r"|\b(antes de|hacia|sobre) las \d{1,2}|\bmañana\b|\bpronto\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    """Split update text into sentences (and lines)."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def find_next_update(text: str) -> str | None:
    """The sentence announcing the next update ("next update in 30 minutes"), if any."""
    return next((s for s in sentences(text) if _NEXT_UPDATE.search(s)), None)


def find_eta(text: str) -> str | None:
    """The sentence giving an estimate for the fix, if any (next-update promises excluded)."""
    for sentence in sentences(text):
        if _NEXT_UPDATE.search(sentence):
            continue
        if _STRONG.search(sentence) or (_FUTURE.search(sentence) and _WHEN.search(sentence)):
            return sentence
    return None
