"""Timestamps in every form status pages write them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.status.times import parse_time, zone_named

EXPECTED = datetime(2019, 9, 23, 16, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2019-09-23T16:12:01Z",
        "2019-09-23T16:12:01z",
        "2019-09-23T16:12:01+00:00",
        "2019-09-23T08:12:01-08:00",
        "2019-09-23T08:12:01-0800",
        "2019-09-23T18:12:01+02:00",
        "2019-09-23 16:12:01 UTC",
        "2019-09-23 16:12:01",
        "Mon, 23 Sep 2019 16:12:01 GMT",
        "Mon, 23 Sep 2019 16:12:01 +0000",
    ],
)
def test_zone_forms(text: str) -> None:
    assert parse_time(text) == EXPECTED


@pytest.mark.parametrize("digits", ["7", "654", "654321", "654321987"])
def test_fractional_seconds_of_any_length(digits: str) -> None:
    parsed = parse_time(f"2019-09-23T16:12:01.{digits}Z")
    assert parsed is not None
    assert parsed.replace(microsecond=0) == EXPECTED
    assert parsed.microsecond == int((digits + "000000")[:6])


def test_no_zone_uses_the_page_zone() -> None:
    madrid = zone_named("Europe/Madrid")
    assert parse_time("2019-09-23T18:12:01", default_tz=madrid) == EXPECTED


def test_result_is_always_utc() -> None:
    parsed = parse_time("2019-09-23T08:12:01-08:00")
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


def test_unix_seconds() -> None:
    assert parse_time(EXPECTED.timestamp()) == EXPECTED


@pytest.mark.parametrize("value", ["yesterday-ish", "2019-13-45T00:00:00Z", {"a": 1}])
def test_garbage_is_none_and_one_line(value: object, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert parse_time(value) is None
    assert len(caplog.records) == 1
    assert "unreadable timestamp" in caplog.records[0].getMessage()


def test_empty_is_none_silently(caplog: pytest.LogCaptureFixture) -> None:
    assert parse_time(None) is None and parse_time("") is None
    assert not caplog.records


def test_unknown_zone_name_falls_back_to_utc(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert zone_named("Mars/Olympus_Mons") is UTC
    assert zone_named(None) is UTC
    assert len(caplog.records) == 1


def test_fixed_offsets_are_kept_as_instants() -> None:
    east = parse_time("2019-09-24T01:12:01+09:00")
    assert east == EXPECTED
    assert east.tzinfo == UTC or east.tzinfo == UTC
