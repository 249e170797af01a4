"""How many SMS segments a text takes: GSM-7 when every character has a GSM 03.38 code,
UCS-2 otherwise (Spanish á, í, ó, ú and any emoji force UCS-2), and fitting a text to a budget.

GSM-7: 160 septets in one segment, 153 per segment of a longer message; the
extension table's characters (``{ } [ ] ~ \\ | ^ €`` and form feed) take two
septets. UCS-2: 70 UTF-16 code units in one segment, 67 per segment; a
character outside the Basic Multilingual Plane (most emoji) takes two.
"""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 basic character set (the default alphabet).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: an escape septet plus one.
GSM_EXTENDED = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """An SMS's encoding, length in its units, and number of segments."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` has a GSM-7 code."""
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


def units(text: str, encoding: str) -> int:
    """The length of ``text`` in septets (GSM-7) or UTF-16 code units (UCS-2)."""
    if encoding == "GSM-7":
        return sum(2 if c in GSM_EXTENDED else 1 for c in text)
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def count(text: str) -> SegmentCount:
    """The segments ``text`` takes as one (concatenated) SMS."""
    encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    n = units(text, encoding)
    single, multi = (160, 153) if encoding == "GSM-7" else (70, 67)
    segments = 1 if n <= single else -(-n // multi)
    return SegmentCount(encoding, n, segments)


def capacity(encoding: str, segments: int) -> int:
    """How many units fit in ``segments`` segments."""
    single, multi = (160, 153) if encoding == "GSM-7" else (70, 67)
    return single if segments <= 1 else multi * segments


def fit(body: str, footer: str, max_segments: int, *, ellipsis: str = "…") -> str:
    """``body`` then ``footer`` (kept whole), the body shortened so the SMS takes at most
    ``max_segments`` segments; an ellipsis marks a cut."""
    whole = f"{body}\n{footer}" if footer else body
    if count(whole).segments <= max_segments:
        return whole
    encoding = "UCS-2"  # the ellipsis is not GSM-7
    room = capacity(encoding, max_segments) - units(("\n" + footer) if footer else "", encoding)
    room -= units(ellipsis, encoding)
    kept: list[str] = []
    used = 0
    for c in body:
        size = units(c, encoding)
        if used + size > room:
            break
        kept.append(c)
        used += size
    cut = "".join(kept).rstrip()
    space = cut.rfind(" ")
    if space > len(cut) * 0.7:  # end on a word when that loses little
        cut = cut[:space].rstrip()
    short = cut + ellipsis
    return f"{short}\n{footer}" if footer else short
