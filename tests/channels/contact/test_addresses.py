"""Addresses and numbers: normalised, and refused (clearly) when they could not work or inject."""

from __future__ import annotations

import pytest

from bot.channels.contact.addresses import AddressError, mask, normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("  Ana@Example.COM ", "ana@example.com"),
        ("o'brien+updates@mail.example.org", "o'brien+updates@mail.example.org"),
    ],
)
def test_emails_are_normalised(raw: str, normal: str) -> None:
    assert normalize_email(raw) == normal


@pytest.mark.parametrize(
    "raw",
    [
        "a@example.com\r\nBcc: x@example.com",
        "a@example.com\nSubject: hi",
        "a@exa\x00mple.com",
        "Name <a@example.com>",
        "a@example.com, b@example.com",
        "a@localhost",
        "@example.com",
        "a@",
        "",
        "ñ@example.com",  # internationalised local parts need SMTPUTF8, which is not assumed
    ],
)
def test_bad_emails_are_refused(raw: str) -> None:
    with pytest.raises(AddressError):
        normalize_email(raw)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("+34 612 345 678", "+34612345678"),
        ("0034612345678", "+34612345678"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("+44 7400 123456", "+447400123456"),
    ],
)
def test_numbers_are_e164(raw: str, normal: str) -> None:
    assert normalize_phone(raw) == normal


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("612345678", "country code"),
        ("+34 912 345 678", "not a mobile"),  # a Madrid landline
        ("+34 6123", "not a valid phone number"),
        ("+34612345678\n", "line break"),
        ("+" + "1" * 40, "too long"),
        ("", "mobile number"),
    ],
)
def test_bad_numbers_are_refused(raw: str, says: str) -> None:
    with pytest.raises(AddressError, match=says):
        normalize_phone(raw)


def test_masks_keep_logs_free_of_personal_data() -> None:
    assert mask("ana.garcia@example.com") == "an…@example.com"
    assert mask("+34612345678") == "+34…678"
