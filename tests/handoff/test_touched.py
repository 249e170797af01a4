"""What a handed-off conversation touched: FAQ entries the bot answered or offered
(decided again with the live index, words the customer said to the agent excluded),
incidents from ``incident_askers`` named from the live status (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.broadcast.tables import incident_askers
from bot.db import Database
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.handoff.store import HandoffStore
from bot.handoff.touched import Touched
from bot.status.live import LiveStatus
from bot.status.model import Incident, IncidentStatus, StatusSnapshot
from bot.store import AppStore
from faq_index import load_encoder
from tests.faq_store.builders import write_seed

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def asked(database: Database, incident_id: str, conversation_id: str, at: datetime) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            incident_askers.insert().values(
                incident_id=incident_id, conversation_id=conversation_id, channel="web",
                address=conversation_id, lang="en", asked_at=at,
            )
        )  # fmt: skip


def test_faq_entries_and_incidents(database: Database, tmp_path: Path) -> None:
    app_store = AppStore(database.engine)
    faq_store = FaqStore(database.engine)
    faq = FaqService.from_store(
        faq_store, encoder=load_encoder("hashing"), store=app_store,
        seed_paths=[write_seed(tmp_path)],
    )  # fmt: skip
    live = LiveStatus()
    live.accept(
        StatusSnapshot(
            incidents=(Incident("inc-1", "Card processor outage", IncidentStatus.IDENTIFIED),),
            as_of=T0,
        )
    )
    store = HandoffStore(database.engine)
    handoff, _ = store.open(
        "web:t", "web", "en",
        transcript=[
            ("user", "card declined", T0),
            ("bot", "Card payments are failing because of the outage.", T0),
            ("user", "when will it be fixed", T0 + timedelta(seconds=5)),
            ("user", "talk to a person", T0 + timedelta(seconds=9)),
        ],
    )  # fmt: skip
    # said to the agent after the handoff opened: the bot never answered it
    store.add_message(handoff.id, "user", "login does not work")
    asked(database, "inc-1", "web:t", T0)
    asked(database, "inc-old", "web:t", T0 + timedelta(seconds=1))
    asked(database, "inc-1", "web:other", T0)
    touched = Touched(database.engine, faq=faq, faq_store=faq_store, live=live)

    got = touched.of(handoff, store.transcript(handoff.id))

    ids = [f["id"] for f in got["faq"]]
    assert "card-payments-failing" in ids and "when-fixed" in ids
    assert "login-problems" not in ids
    card = next(f for f in got["faq"] if f["id"] == "card-payments-failing")
    assert card["question"] == "Why are my card payments failing?" and card["version"] == 1
    assert card["how"] == "answered"
    assert got["incidents"] == [
        {"id": "inc-1", "name": "Card processor outage", "status": "identified",
         "current": True, "asked_at": "2026-12-05T10:00:00Z"},
        {"id": "inc-old", "name": None, "status": None, "current": False,
         "asked_at": "2026-12-05T10:00:01Z"},
    ]  # fmt: skip

    # the ids are decided once per handoff (the inbox polls): the same answer again
    assert touched.of(handoff, store.transcript(handoff.id)) == got
    # a conversation that touched nothing
    other, _ = store.open("web:quiet", "web", "en")
    assert touched.of(other, store.transcript(other.id)) == {"faq": [], "incidents": []}
