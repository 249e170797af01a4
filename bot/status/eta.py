"""Find what an update's text says about time: an estimate for a fix, or the next update.

Faro never computes an estimate: it only quotes the sentence in which the
status page gave one.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")

_NEXT_UPDATE = re.compile(
    r"next update|another update|further update|provide (an )?update|update (you|again)"
    r"|post (an )?update|próxima actualización|nueva actualización|actualizaremos|informaremos",
    re.IGNORECASE,
)
_ETA = re.compile(
    r"\beta\b|estimated (time|resolution|completion|fix)|\bexpect(ed|s)?\b.*\b(by|within|in|around|before|until)\b"
    r"|\b(should|will|to) be (fixed|resolved|restored|back|available|complete|completed|operational)\b"
    r".*\b(by|within|in|around|before|shortly|soon)\b"
    r"|\b(by|before|around|until)\s+(\d{1,2}(:\d{2})?\s*(am|pm|utc|gmt|[a-z]{2,4}t)\b|tomorrow|tonight"
    r"|end of (the )?day|midnight|noon)"
    r"|\bwithin (the next )?(\d+|a few|an?|one|two|few) (minutes?|hours?|days?)"
    r"|hora estimada|tiempo estimado|\bestimamos\b|\bprevemos\b|\besperamos (que|tener|resolver)"
    r"|\b(en|dentro de) (las |los )?(próximas |próximos )?(\d+|unos|unas|pocos|pocas) "
    r"(minutos|horas|días)"
    r"|\b(antes de|hacia|sobre) las \d{1,2}|\bmañana\b",
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
        if _ETA.search(sentence):
            return sentence
    return None
