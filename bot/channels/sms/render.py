"""A composed broadcast text as one SMS: pictographs dropped, fitted to the segment budget.

The budget is the template ``sms.max_segments`` (a number; staff can change it).
The footer (how to stop) is the last line of every composed text and is kept whole.
"""

from __future__ import annotations

import re

from bot.channels.sms.segments import fit
from bot.templates import TemplateStore

DEFAULT_SEGMENTS = 3
# Emoji and other pictographs: each costs two UCS-2 units and forces UCS-2 on its own.
_PICTOGRAPHS = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d]")


def max_segments(templates: TemplateStore, lang: str) -> int:
    """The segment budget the templates set (1-10; default 3)."""
    if not templates.has("sms.max_segments"):
        return DEFAULT_SEGMENTS
    raw = templates.render("sms.max_segments", lang).strip()
    return min(10, max(1, int(raw))) if raw.isdigit() else DEFAULT_SEGMENTS


def plain(text: str) -> str:
    """``text`` without pictographs, one space between words on each line."""
    lines = [" ".join(_PICTOGRAPHS.sub("", line).split()) for line in text.strip().split("\n")]
    return "\n".join(line for line in lines if line)


def render_sms(text: str, *, segments: int, footer: bool = True) -> str:
    """The SMS for ``text`` in at most ``segments`` segments (last line kept as the footer)."""
    lines = plain(text).split("\n")
    if footer and len(lines) > 1:
        return fit("\n".join(lines[:-1]), lines[-1], segments)
    return fit("\n".join(lines), "", segments)
