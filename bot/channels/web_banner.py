"""The widget's live status banner, from the app's status service (the words answers use)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bot.core.languages import DEFAULT_LANG, LANGUAGES
from bot.core.messages import Phase
from bot.core.ports import StatusService

logger = logging.getLogger(__name__)

# Phases of a status answer during which the widget shows the banner.
ACTIVE_PHASES = frozenset(
    {
        Phase.INVESTIGATING,
        Phase.IDENTIFIED,
        Phase.MONITORING,
        Phase.UNKNOWN,
        Phase.MAINTENANCE_IN_PROGRESS,
        Phase.COMPONENT,
    }
)


class StatusBanner:
    """The current banner per language, cached for ``ttl_s`` or until the status changes."""

    def __init__(
        self,
        status: StatusService,
        *,
        ttl_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.status = status
        self.ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    def current(self, lang: str | None) -> dict[str, Any]:
        """``{"active": bool, "phase", "text", "as_of", "incident_id", "stale"}`` in ``lang``."""
        lang = lang if lang in LANGUAGES else DEFAULT_LANG
        now = self._clock()
        cached = self._cache.get(lang)
        if cached and cached[0] > now:
            return cached[1]
        banner = self._build(lang)
        self._cache[lang] = (now + self.ttl_s, banner)
        return banner

    def invalidate(self) -> None:
        """Forget the cached banners (the status changed)."""
        self._cache.clear()

    def _build(self, lang: str) -> dict[str, Any]:
        try:
            reply = self.status.status_reply("", lang)
        except Exception:  # the banner is optional: never break the widget for it
            logger.exception("status banner: the status service failed")
            return {"active": False, "phase": "unavailable"}
        card = reply.status
        if card is None:  # a status service answering without its card: nothing to show
            return {"active": False, "phase": ""}
        active = card.phase in ACTIVE_PHASES
        return {
            "active": active,
            "phase": card.phase.value,
            "text": reply.text if active else "",
            "as_of": card.as_of.isoformat() if card.as_of else None,
            "incident_id": card.incident_id,
            "stale": card.stale,
        }
