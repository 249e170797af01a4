"""What a handed-off conversation touched: the FAQ entries the bot answered or offered,
and the incidents the customer asked about, so the agent starts where the bot left off.

FAQ entries: the bot records no FAQ id when it answers (Rasa's bot events carry the
text only), so the customer's words from before the handoff are decided again with
the live FAQ index, the same deterministic ``decide`` the bot ran. The ids are
computed once per handoff (its pre-handoff lines never change) and kept in memory;
each entry's question and version are read fresh, so an entry edited since shows
what the bot says now. Incidents: the ``incident_askers`` rows of the conversation
(written when the bot answered a status question about an open incident), named
from the live status when the incident is in the current snapshot.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa

from bot.broadcast.tables import incident_askers
from bot.db import as_utc
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.handoff.store import Handoff, HandoffMessage, iso
from bot.status.live import LiveStatus

logger = logging.getLogger(__name__)

# At most this many FAQ entries per handoff (the first ones the conversation reached).
MAX_ENTRIES = 8
# Handoffs whose FAQ ids are remembered (the inbox polls every two seconds).
CACHE_SIZE = 512


class Touched:
    """The FAQ entries and incidents a conversation touched before its handoff."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        faq: FaqService | None = None,
        faq_store: FaqStore | None = None,
        live: LiveStatus | None = None,
    ) -> None:
        self._engine = engine
        self._faq = faq
        self._faq_store = faq_store
        self._live = live
        self._ids: OrderedDict[int, list[tuple[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, handoff: Handoff, transcript: list[HandoffMessage]) -> dict[str, Any]:
        """``{"faq": [{id, question, version, how}], "incidents": [{id, name, status, ...}]}``."""
        return {
            "faq": self._faq_entries(handoff, transcript),
            "incidents": self._incidents(handoff.conversation_id),
        }

    def _faq_ids(self, handoff: Handoff, transcript: list[HandoffMessage]) -> list[tuple[str, str]]:
        with self._lock:
            if handoff.id in self._ids:
                self._ids.move_to_end(handoff.id)
                return self._ids[handoff.id]
        assert self._faq is not None
        found: dict[str, str] = {}
        for message in transcript:
            # only what the bot saw: the customer's words to the agent get no bot answer
            if message.role != "user" or message.at > handoff.opened_at:
                continue
            decision = self._faq.decide(message.text, handoff.lang)
            if decision.kind == "answer":
                picked = [(decision.matches[0].entry.id, "answered")]
            elif decision.kind == "choose":
                picked = [(m.entry.id, "offered") for m in decision.matches]
            else:
                picked = []
            for faq_id, how in picked:
                if found.get(faq_id) != "answered":
                    found[faq_id] = how
        ids = list(found.items())[:MAX_ENTRIES]
        with self._lock:
            self._ids[handoff.id] = ids
            while len(self._ids) > CACHE_SIZE:
                self._ids.popitem(last=False)
        return ids

    def _faq_entries(
        self, handoff: Handoff, transcript: list[HandoffMessage]
    ) -> list[dict[str, Any]]:
        if self._faq is None:
            return []
        out: list[dict[str, Any]] = []
        for faq_id, how in self._faq_ids(handoff, transcript):
            found = self._faq.entry_answer(faq_id, handoff.lang)
            if found is None:
                continue  # retired since
            entry: dict[str, Any] = {"id": faq_id, "question": found[0], "how": how}
            stored = self._faq_store.get(faq_id) if self._faq_store else None
            entry["version"] = stored.version if stored is not None else None
            out.append(entry)
        return out

    def _incidents(self, conversation_id: str) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(incident_askers.c.incident_id, incident_askers.c.asked_at)
                .where(incident_askers.c.conversation_id == conversation_id)
                .order_by(incident_askers.c.asked_at)
            ).all()
        snapshot = self._live.snapshot if self._live is not None else None
        current = {i.id: i for i in snapshot.incidents} if snapshot is not None else {}
        out: list[dict[str, Any]] = []
        for row in rows:
            incident = current.get(row.incident_id)
            out.append(
                {
                    "id": row.incident_id,
                    "name": incident.name if incident else None,
                    "status": str(incident.status) if incident else None,
                    "current": incident is not None,
                    "asked_at": iso(as_utc(row.asked_at)),
                }
            )
        return out
