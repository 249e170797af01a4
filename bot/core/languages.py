"""The languages Faro speaks to customers, in one place."""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "es")
DEFAULT_LANG = "en"
