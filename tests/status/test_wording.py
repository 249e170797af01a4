"""Times, ages, lists and quotes customers read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.status.times import zone_named
from bot.status.wording import (
    format_age,
    format_time,
    join_names,
    language,
    plain_text,
    quote,
    slug,
)

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_time_today_other_day_other_year() -> None:
    assert format_time(NOW.replace(hour=14, minute=5), lang="en", now=NOW) == "14:05 UTC"
    assert (
        format_time(datetime(2026, 2, 27, 9, 7, tzinfo=UTC), lang="en", now=NOW)
        == "09:07 UTC on 27 February"
    )
    assert (
        format_time(datetime(2026, 2, 27, 9, 7, tzinfo=UTC), lang="es", now=NOW)
        == "09:07 UTC del 27 de febrero"
    )
    assert (
        format_time(datetime(2025, 12, 31, 23, 0, tzinfo=UTC), lang="en", now=NOW)
        == "23:00 UTC on 31 December 2025"
    )
    assert (
        format_time(datetime(2025, 12, 31, 23, 0, tzinfo=UTC), lang="es", now=NOW)
        == "23:00 UTC del 31 de diciembre de 2025"
    )


def test_time_in_a_display_zone_names_the_zone() -> None:
    madrid = zone_named("Europe/Madrid")
    assert format_time(NOW, lang="es", tz=madrid, now=NOW) == "16:00 CET"
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert format_time(summer, lang="en", tz=madrid, now=summer) == "14:00 CEST"


@pytest.mark.parametrize(
    ("age", "en", "es"),
    [
        (timedelta(seconds=20), "less than a minute", "menos de un minuto"),
        (timedelta(minutes=1), "1 minute", "1 minuto"),
        (timedelta(minutes=6, seconds=40), "6 minutes", "6 minutos"),
        (timedelta(hours=2, minutes=5), "2 hours 5 minutes", "2 horas y 5 minutos"),
        (timedelta(days=1, hours=1, minutes=1), "1 day 1 hour", "1 día y 1 hora"),
    ],
)
def test_age(age: timedelta, en: str, es: str) -> None:
    assert format_age(age, lang="en") == en
    assert format_age(age, lang="es") == es


def test_language_and_lists() -> None:
    assert language("es-MX") == "es" and language("fr") == "en" and language(None) == "en"
    assert join_names(["A"], lang="en") == "A"
    assert join_names(["A", "B", "C"], lang="en") == "A, B and C"
    assert join_names(["A", "B"], lang="es") == "A y B"


def test_plain_text_and_quotes() -> None:
    html = (
        "<ul><li><strong>2012-01-24 03:05:00</strong> - Bad deploy.</li>"
        "<li>Fixed &amp; done.</li></ul>"
    )
    assert plain_text(html) == "2012-01-24 03:05:00 - Bad deploy. Fixed & done."
    assert plain_text("Line one\n\nhttps://x.example/a?b=c") == "Line one https://x.example/a?b=c"
    long = "First sentence is here. " + "word " * 200
    quoted = quote(long, limit=100)
    assert quoted == "First sentence is here. " + " ".join(["word"] * 15) + " …" or quoted.endswith(
        "…"
    )
    assert len(quoted) <= 102
    assert quote("Short.", limit=100) == "Short."


def test_slug() -> None:
    assert slug("Card payments") == "card_payments"
    assert slug("ATMs") == "atms"
