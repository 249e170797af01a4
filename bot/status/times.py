"""Timestamps as status pages write them: ISO 8601 with or without zone, RFC 822, Unix."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

# "+0000" / "-0800" without a colon, which fromisoformat rejects before 3.11 and
# some feeds still emit; normalised to "+00:00".
_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: object, *, default_tz: tzinfo = UTC) -> datetime | None:
    """Parse a feed timestamp to an aware UTC datetime; None (and one log line) if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            logger.warning("status feed: unreadable timestamp %r; ignored", value)
            return None
    if not isinstance(value, str):
        logger.warning("status feed: unreadable timestamp %r; ignored", value)
        return None
    parsed = _parse_text(value.strip())
    if parsed is None:
        logger.warning("status feed: unreadable timestamp %r; ignored", value[:60])
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed.astimezone(UTC)


def _parse_text(text: str) -> datetime | None:
    iso = text.replace(" UTC", "Z").replace(" GMT", "Z")
    if iso.endswith(("z", "Z")):
        iso = iso[:-1] + "+00:00"
    iso = _COMPACT_OFFSET.sub(r"\1:\2", iso)
    # Python accepts 1-6 fractional digits only in some forms; keep at most 6.
    iso = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], iso, count=1)
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)  # RSS pubDate: "Tue, 10 Jun 2003 04:00:00 GMT"
    except (TypeError, ValueError, IndexError):
        return None


def zone_named(name: str | None) -> tzinfo:
    """The zone for an IANA name such as a page's ``time_zone``; UTC when unknown."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("status feed: unknown time zone %r; using UTC", name[:60])
        return UTC


# Abbreviations Statuspage prints in Atom update headers ("Jun 18, 18:09 UTC").
ZONE_ABBREVIATIONS: dict[str, tzinfo] = {
    "UTC": UTC,
    "GMT": UTC,
    "Z": UTC,
    "EST": timezone(timedelta(hours=-5)),
    "EDT": timezone(timedelta(hours=-4)),
    "CST": timezone(timedelta(hours=-6)),
    "CDT": timezone(timedelta(hours=-5)),
    "MST": timezone(timedelta(hours=-7)),
    "MDT": timezone(timedelta(hours=-6)),
    "PST": timezone(timedelta(hours=-8)),
    "PDT": timezone(timedelta(hours=-7)),
    "CET": timezone(timedelta(hours=1)),
    "CEST": timezone(timedelta(hours=2)),
    "BST": timezone(timedelta(hours=1)),
}
