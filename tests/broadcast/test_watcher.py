"""Status changes become broadcasts: once per update, to the right people, in their words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.broadcast.compose import Composer
from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import Recipient, SubscriptionStore
from bot.broadcast.watcher import Broadcaster
from bot.stack import ROOT
from bot.status.live import LiveStatus
from bot.status.model import StatusSnapshot
from bot.status.statuspage import merge, parse_document
from bot.templates import TemplateStore
from tests.helpers.status_server import IncidentReplay

FIXTURE = ROOT / "tests/status/fixtures/incidents/rgy28jwprr1c.json"
TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])
NOW = datetime.now(UTC)
REPLAY = IncidentReplay.from_file(FIXTURE).rebased(NOW)


def snapshot(step: int) -> StatusSnapshot:
    """What the Statuspage source sees at ``step`` (summary and incident list, merged)."""
    docs = REPLAY.documents_at(step)
    return merge(
        parse_document(docs[name], fetched_at=NOW) for name in ("summary.json", "incidents.json")
    )


def quiet() -> StatusSnapshot:
    """Before the incident: the same page, everything operational."""
    doc = REPLAY.documents_at(1)["summary.json"]
    components = [{**c, "status": "operational"} for c in doc["components"]]
    return parse_document(
        {**doc, "incidents": [], "components": components, "status": {"indicator": "none"}},
        fetched_at=NOW,
    )


@pytest.fixture
def broadcaster(subscriptions: SubscriptionStore, outbox: Outbox) -> Broadcaster:
    live = LiveStatus()
    live.snapshot = quiet()
    return Broadcaster(
        live=live, subscriptions=subscriptions, outbox=outbox, composer=Composer(TEMPLATES)
    )


def subscribe_some(subscriptions: SubscriptionStore) -> None:
    subscriptions.subscribe(Recipient("telegram:1", "telegram", "1", "en"))
    subscriptions.subscribe(Recipient("web:w", "web", "web:w", "es"))
    subscriptions.subscribe(Recipient("slack:T:U1", "slack", "U1", "en"), ["Notifications"])
    subscriptions.subscribe(Recipient("slack:T:U2", "slack", "U2", "es"), ["Git Operations"])


def test_each_update_is_broadcast_once_to_those_it_concerns(
    broadcaster: Broadcaster, subscriptions: SubscriptionStore, outbox: Outbox
) -> None:
    subscribe_some(subscriptions)
    broadcaster.process(quiet(), now=NOW)
    kinds = []
    for step in range(1, REPLAY.steps + 1):
        created = broadcaster.process(snapshot(step), now=NOW)
        assert len(created) == 1, step
        assert broadcaster.process(snapshot(step), now=NOW) == []  # same snapshot: nothing new
        [progress] = outbox.progress(broadcast_id=created[0])
        kinds.append(progress.kind)
        rows = outbox.audit(broadcast_id=created[0])
        # U2 follows another component only
        assert sorted(r.conversation_id for r in rows) == ["slack:T:U1", "telegram:1", "web:w"]
        update = REPLAY.update_at(step)
        for row in rows:
            assert " ".join(update["body"].split()) in " ".join(row.text.split())
    assert kinds == ["new", "update", "update", "resolved"]


def test_wording_follows_language_and_channel(
    broadcaster: Broadcaster, subscriptions: SubscriptionStore, outbox: Outbox
) -> None:
    subscribe_some(subscriptions)
    broadcaster.process(quiet(), now=NOW)
    [bid] = broadcaster.process(snapshot(1), now=NOW)
    texts = {r.conversation_id: r.text for r in outbox.audit(broadcast_id=bid)}
    assert texts["telegram:1"].startswith("🔔 New incident: Notifications degredation")
    assert "/stop" in texts["telegram:1"]
    assert texts["web:w"].startswith("🔔 Nueva incidencia: Notifications degredation")
    assert "Estamos investigando el problema." in texts["web:w"]
    assert "no más avisos" in texts["web:w"] and "/stop" not in texts["web:w"]
    assert "stop updates" in texts["slack:T:U1"]


def test_resolution_reaches_askers_who_did_not_subscribe(
    broadcaster: Broadcaster, subscriptions: SubscriptionStore, outbox: Outbox
) -> None:
    subscribe_some(subscriptions)
    incident_id = REPLAY.incident["id"]
    subscriptions.note_asker(incident_id, Recipient("telegram:99", "telegram", "99", "es"))
    subscriptions.note_asker(incident_id, Recipient("telegram:1", "telegram", "1", "en"))
    broadcaster.process(quiet(), now=NOW)
    for step in range(1, REPLAY.steps):
        created = broadcaster.process(snapshot(step), now=NOW)
        assert "telegram:99" not in {
            r.conversation_id for r in outbox.audit(broadcast_id=created[0])
        }
    [bid] = broadcaster.process(snapshot(REPLAY.steps), now=NOW)
    rows = {r.conversation_id: r for r in outbox.audit(broadcast_id=bid)}
    assert set(rows) == {"slack:T:U1", "telegram:1", "web:w", "telegram:99"}
    assert rows["telegram:99"].text.startswith("✅ El problema por el que nos preguntaste")
    assert rows["telegram:1"].text.startswith("✅ Resolved:")  # a subscriber: one message only


def test_updates_missed_between_polls_collapse_into_one(
    broadcaster: Broadcaster, subscriptions: SubscriptionStore, outbox: Outbox
) -> None:
    subscribe_some(subscriptions)
    broadcaster.process(quiet(), now=NOW)
    created = broadcaster.process(snapshot(3), now=NOW)
    assert len(created) == 1
    [progress] = outbox.progress(broadcast_id=created[0])
    assert progress.kind == "new"
    assert broadcaster.process(snapshot(2), now=NOW) == []  # older updates were consumed


def test_old_history_is_recorded_not_sent(
    broadcaster: Broadcaster, subscriptions: SubscriptionStore, outbox: Outbox
) -> None:
    subscribe_some(subscriptions)
    later = NOW + timedelta(days=2)
    assert broadcaster.process(snapshot(REPLAY.steps), now=later) == []
    assert outbox.audit() == []


def test_component_change_without_an_update(
    broadcaster: Broadcaster, subscriptions: SubscriptionStore, outbox: Outbox
) -> None:
    subscribe_some(subscriptions)
    broadcaster.process(quiet(), now=NOW)
    doc = REPLAY.documents_at(1)["summary.json"]
    down = parse_document(
        {
            **doc,
            "incidents": [],
            "components": [{**c, "status": "major_outage"} for c in doc["components"]],
        },
        fetched_at=NOW,
    )
    [bid] = broadcaster.process(down, now=NOW)
    rows = {r.conversation_id: r.text for r in outbox.audit(broadcast_id=bid)}
    assert set(rows) == {"telegram:1", "web:w", "slack:T:U1"}
    assert "Notifications: unavailable." in rows["telegram:1"]
    assert "Notifications: no disponible." in rows["web:w"]
    assert broadcaster.process(down, now=NOW) == []


def test_announcement_to_everyone_or_one_component(
    broadcaster: Broadcaster, subscriptions: SubscriptionStore, outbox: Outbox
) -> None:
    subscribe_some(subscriptions)
    texts = {"en": "Branches open late today.", "es": "Las oficinas abren tarde hoy."}
    everyone = broadcaster.announce(texts, created_by="ana", key="announce:1")
    assert everyone is not None
    assert broadcaster.announce(texts, created_by="ana", key="announce:1") is None
    rows = {r.conversation_id: r.text for r in outbox.audit(broadcast_id=everyone)}
    assert len(rows) == 4
    assert "Las oficinas abren tarde hoy." in rows["web:w"]
    some = broadcaster.announce(texts, components=["Git Operations"], created_by="ana", key="a2")
    assert some is not None
    assert {r.conversation_id for r in outbox.audit(broadcast_id=some)} == {
        "telegram:1",
        "web:w",
        "slack:T:U2",
    }
