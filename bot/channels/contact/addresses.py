"""Email addresses and phone numbers as customers type them, checked and normalised.

Anything that could break out of a header (CR, LF, NUL, other control
characters) is refused here, before an address is stored; the email
renderer refuses it again when it builds a message.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_EMAIL = 254
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AddressError(ValueError):
    """An address or number that cannot be used; the message says why, in one sentence."""


def normalize_email(value: str) -> str:
    """``value`` as one address, in lower case; raises AddressError.

    The local part is case-sensitive by the letter of RFC 5321 but not at any
    provider customers use; one spelling per mailbox is what makes the
    per-address limit and "already subscribed" hold.
    """
    if not isinstance(value, str) or not value.strip():
        raise AddressError("give an email address, like name@example.com")
    if _CONTROL.search(value):
        raise AddressError("the email address contains a line break or control character")
    text = value.strip()
    if len(text) > MAX_EMAIL:
        raise AddressError(f"the email address is longer than {MAX_EMAIL} characters")
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise AddressError(f"not a valid email address: {exc}") from None
    return f"{checked.local_part}@{checked.domain}".lower()


def normalize_phone(value: str) -> str:
    """``value`` as an E.164 mobile number (``+34612345678``); raises AddressError.

    The number must start with ``+`` and its country code: a subscribe page
    serves customers of several countries, and guessing the country is how
    texts reach the wrong person.
    """
    if not isinstance(value, str) or not value.strip():
        raise AddressError("give a mobile number with its country code, like +34 612 345 678")
    if _CONTROL.search(value):
        raise AddressError("the phone number contains a line break or control character")
    text = value.strip()
    if len(text) > 32:
        raise AddressError("the phone number is too long")
    if not text.startswith(("+", "00")):
        raise AddressError("start the number with + and its country code, like +34 612 345 678")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise AddressError("not a phone number: use digits, with + and the country code") from None
    if not phonenumbers.is_valid_number(number):
        raise AddressError("not a valid phone number for its country code")
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise AddressError("not a mobile number: text messages need a mobile phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(address: str) -> str:
    """An address shortened for logs and pages (``al…@example.com``, ``+34…678``)."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:2]}…@{domain}"
    return f"{address[:3]}…{address[-3:]}"
