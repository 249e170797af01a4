"""The web channel's settings: FARO_WEB_ALLOWED_ORIGINS, rate limits, push poll interval."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.web.allowed_origins is None  # own origin + localhost
    assert (s.web.rate_per_session, s.web.rate_per_ip, s.web.push_poll_s) == (20, 120, 5.0)


def test_values_are_read() -> None:
    s = Settings.from_env(
        {
            "FARO_WEB_ALLOWED_ORIGINS": " https://www.northwind.example, http://localhost:3000/ ,",
            "FARO_WEB_RATE_PER_SESSION": "5",
            "FARO_WEB_RATE_PER_IP": "600",
            "FARO_WEB_PUSH_POLL": "1.5",
        }
    )
    assert s.web.allowed_origins == ("https://www.northwind.example", "http://localhost:3000/")
    assert (s.web.rate_per_session, s.web.rate_per_ip, s.web.push_poll_s) == (5, 600, 1.5)


@pytest.mark.parametrize(
    "value", ["www.northwind.example", "https://", "https://x.example/path", "javascript:alert(1)"]
)
def test_a_bad_origin_fails_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="FARO_WEB_ALLOWED_ORIGINS: .* is not an origin"):
        Settings.from_env({"FARO_WEB_ALLOWED_ORIGINS": value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FARO_WEB_RATE_PER_SESSION", "0"),
        ("FARO_WEB_RATE_PER_IP", "lots"),
        ("FARO_WEB_PUSH_POLL", "0"),
    ],
)
def test_bad_limits_fail_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
