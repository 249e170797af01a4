"""Email and SMS settings: FARO_SMTP_URL parsed, secrets kept out of repr, both off by default
with one log line each."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.channels.email.wiring import email_channel
from bot.channels.sms.wiring import sms_channel
from bot.settings import Settings, SettingsError


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"FARO_PROJECT_DIR": str(tmp_path), **env}, secrets=False)


def test_smtp_urls(tmp_path: Path) -> None:
    plain = settings(tmp_path, FARO_SMTP_URL="smtp://u%40x:p%3Aw@mail.example:2525").email
    assert (plain.host, plain.port, plain.username, plain.password, plain.tls) == (
        "mail.example",
        2525,
        "u@x",
        "p:w",
        False,
    )
    tls = settings(tmp_path, FARO_SMTP_URL="smtps://mail.example").email
    assert (tls.port, tls.tls, tls.username) == (465, True, None)
    assert settings(tmp_path, FARO_SMTP_URL="smtp://mail.example").email.port == 25
    assert "p:w" not in repr(settings(tmp_path, FARO_SMTP_URL="smtp://u:p:w@m.example"))


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"FARO_SMTP_URL": "http://mail.example"}, "FARO_SMTP_URL"),
        ({"FARO_SMTP_URL": "smtp://"}, "FARO_SMTP_URL"),
        ({"FARO_SMTP_URL": "smtp://m.example:99999"}, "FARO_SMTP_URL"),
        ({"FARO_EMAIL_FROM": "updates@example.com\r\nBcc: x@example.com"}, "FARO_EMAIL_FROM"),
        ({"FARO_EMAIL_FROM": "nobody"}, "FARO_EMAIL_FROM"),
        ({"FARO_TWILIO_API_URL": "ftp://x"}, "FARO_TWILIO_API_URL"),
        ({"FARO_TWILIO_RATE": "0"}, "FARO_TWILIO_RATE"),
        ({"FARO_PUBLIC_URL": "updates.example"}, "FARO_PUBLIC_URL"),
        ({"FARO_SUBSCRIBE_RATE_PER_IP": "lots"}, "FARO_SUBSCRIBE_RATE_PER_IP"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        settings(tmp_path, **env)


def test_twilio_settings_and_defaults(tmp_path: Path) -> None:
    off = settings(tmp_path)
    assert not off.email.enabled and not off.sms.enabled
    assert off.sms.api_url == "https://api.twilio.com" and off.sms.rate_per_s == 1.0
    assert off.contact.public_url == "http://127.0.0.1:8000"
    on = settings(
        tmp_path,
        FARO_TWILIO_ACCOUNT_SID="AC1",
        FARO_TWILIO_AUTH_TOKEN="tok-secret",
        FARO_TWILIO_FROM="+15005550006",
        FARO_TWILIO_API_URL="http://127.0.0.1:9/",
        FARO_PUBLIC_URL="https://updates.example/",
    )
    assert on.sms.enabled and on.sms.api_url == "http://127.0.0.1:9"
    assert on.contact.public_url == "https://updates.example"
    assert "tok-secret" not in repr(on)


def test_the_bounce_token_is_off_by_default_and_kept_out_of_repr(tmp_path: Path) -> None:
    assert settings(tmp_path).email.bounce_token is None
    on = settings(tmp_path, FARO_EMAIL_BOUNCE_TOKEN="dsn-secret-123")
    assert on.email.bounce_token == "dsn-secret-123" and "dsn-secret-123" not in repr(on)


def test_off_by_default_with_one_log_line_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Context:
        settings = Settings.from_env({"FARO_PROJECT_DIR": str(tmp_path)}, secrets=False)

    with caplog.at_level(logging.INFO):
        assert email_channel(Context()) is None  # type: ignore[arg-type]
        assert sms_channel(Context()) is None  # type: ignore[arg-type]
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Email updates are off: set FARO_SMTP_URL and FARO_EMAIL_FROM",
        "SMS updates are off: set FARO_TWILIO_ACCOUNT_SID, FARO_TWILIO_AUTH_TOKEN "
        "and FARO_TWILIO_FROM",
    ]
