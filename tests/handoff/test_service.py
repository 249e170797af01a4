"""The handoff desk: honest queue messages, claims, replies through the channel, endings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.broadcast.delivery import RecipientGone
from bot.db import Database
from bot.handoff.service import (
    CANCEL_PAYLOAD,
    HandoffConflict,
    HandoffNotFound,
    HandoffService,
    InvalidReply,
    wait_estimate_s,
)
from bot.handoff.store import HandoffStore, QueueFigures
from bot.handoff.tables import handoffs
from tests.helpers.handoff_fakes import RecordingChannel


def test_nobody_online_says_so_with_the_contact_options(service: HandoffService) -> None:
    message = service.request("telegram:42", "telegram", "en")
    assert "No one from our team is online" in message.text and "0800" in message.text
    assert [b.payload for b in message.buttons] == [CANCEL_PAYLOAD]
    es = service.request("web:x", "web", "es")
    assert "no hay nadie" in es.text and es.buttons[0].title == "Da igual"


def test_online_agents_place_and_no_estimate_without_history(service: HandoffService) -> None:
    service.store.seen("ana")
    service.request("web:a", "web", "en")
    message = service.request("web:b", "web", "en")
    assert "Agents online now: 1" in message.text
    assert "number 2 in the queue" in message.text
    assert "enough recent handoffs" in message.text
    handoff = service.current("web:b")
    assert handoff is not None
    assert service.store.transcript(handoff.id)[-1].text == message.text  # kept for the agent


def test_wait_estimate_from_recent_handling_times(
    service: HandoffService, database: Database
) -> None:
    now = datetime.now(UTC)
    store = service.store
    for i, minutes in enumerate((2, 4, 6)):  # picked up after 2, 4, 6 min; handled 10 min each
        h, _ = store.open(f"web:old{i}", "web", "en")
        with database.engine.begin() as conn:
            conn.execute(
                handoffs.update()
                .where(handoffs.c.id == h.id)
                .values(
                    state="closed",
                    opened_at=now - timedelta(minutes=30 + minutes),
                    claimed_at=now - timedelta(minutes=30),
                    closed_at=now - timedelta(minutes=20),
                    outcome="released",
                )
            )
    store.seen("ana")
    first = service.request("web:a", "web", "en")
    assert "about 4 min" in first.text  # median pickup, an agent is free
    second = service.request("web:b", "web", "es")
    assert "unos 14 min" in second.text  # one ahead of it: pickup + one handling time


def test_wait_estimate_rules() -> None:
    figures = QueueFigures(1, 0, 10.0, 3, 2, (60.0, 120.0, 180.0), (600.0, 600.0, 900.0))
    assert wait_estimate_s(1, figures) == 120.0
    assert wait_estimate_s(3, figures) == 120.0 + 600.0
    assert wait_estimate_s(5, figures) == 120.0 + 2 * 600.0
    offline = QueueFigures(1, 0, 10.0, 3, 0, (60.0, 120.0, 180.0), (600.0,) * 3)
    assert wait_estimate_s(1, offline) is None
    few = QueueFigures(1, 0, 10.0, 1, 1, (60.0,), ())
    assert wait_estimate_s(1, few) is None


def test_claim_reply_release_reach_the_customer(
    service: HandoffService, channel: RecordingChannel
) -> None:
    service.request("slack:T1:U1", "slack", "es")
    handoff = service.current("slack:T1:U1")
    assert handoff is not None
    claimed = asyncio.run(service.claim(handoff.id, "ana"))
    assert claimed.state == "active" and claimed.claimed_by == "ana"
    with pytest.raises(HandoffConflict, match="already claimed"):
        asyncio.run(service.claim(handoff.id, "bob"))
    with pytest.raises(HandoffConflict, match="another agent"):
        asyncio.run(service.reply(handoff.id, "bob", "hi"))
    outcome = asyncio.run(service.reply(handoff.id, "ana", "  Hola, <b>soy Ana</b>  "))
    assert outcome.delivered
    released = asyncio.run(service.release(handoff.id, "ana"))
    assert (released.state, released.outcome) == ("closed", "released")
    assert channel.sent == [
        ("notice", "U1", "Ahora estás hablando con ana, de nuestro equipo.", "es"),
        ("reply", "U1", "Hola, <b>soy Ana</b>", "es"),
        ("notice", "U1", service._templates.render("handoff_released", "es"), "es"),
    ]
    roles = [m.role for m in service.store.transcript(handoff.id)]
    assert roles == ["bot", "bot", "agent", "bot"]
    with pytest.raises(HandoffConflict, match="closed"):
        asyncio.run(service.close(handoff.id, "ana"))


def test_bad_replies_change_nothing(service: HandoffService, channel: RecordingChannel) -> None:
    service.request("web:a", "web", "en")
    handoff = service.current("web:a")
    assert handoff is not None
    asyncio.run(service.claim(handoff.id, "ana"))
    before = service.store.transcript(handoff.id)
    for bad in ("", "   ", None, 42, "x" * 4001):
        with pytest.raises(InvalidReply):
            asyncio.run(service.reply(handoff.id, "ana", bad))
    assert service.store.transcript(handoff.id) == before
    with pytest.raises(HandoffNotFound):
        asyncio.run(service.reply(999, "ana", "hi"))
    assert asyncio.run(service.reply(handoff.id, "ana", "x" * 4000)).delivered


def test_a_failed_delivery_is_kept_with_its_reason(
    service: HandoffService, channel: RecordingChannel
) -> None:
    service.request("telegram:7", "telegram", "en")
    handoff = service.current("telegram:7")
    assert handoff is not None
    asyncio.run(service.claim(handoff.id, "ana"))
    channel.fail_with = RecipientGone("Telegram 403: Forbidden: bot was blocked by the user")
    outcome = asyncio.run(service.reply(handoff.id, "ana", "are you there?"))
    assert not outcome.delivered
    assert outcome.message.error == "Telegram 403: Forbidden: bot was blocked by the user"
    assert service.store.transcript(handoff.id)[-1].delivery == "failed"


def test_a_channel_not_running_is_a_reason_too(store: HandoffStore, templates: object) -> None:
    desk = HandoffService(store, templates)  # type: ignore[arg-type]
    desk.request("telegram:7", "telegram", "en")
    handoff = desk.current("telegram:7")
    assert handoff is not None
    asyncio.run(desk.claim(handoff.id, "ana"))
    outcome = asyncio.run(desk.reply(handoff.id, "ana", "hi"))
    assert outcome.message.error == "the telegram channel is not running on this server"


def test_cancel_only_while_waiting(service: HandoffService) -> None:
    assert "anything else" in service.cancel("web:a", "en").text  # nothing to cancel
    service.request("web:a", "web", "en")
    assert "out of the queue" in service.cancel("web:a", "en").text
    assert service.current("web:a") is None
    assert service.store.needs_resume("web:a")
    service.request("web:b", "web", "en")
    handoff = service.current("web:b")
    assert handoff is not None
    asyncio.run(service.claim(handoff.id, "ana"))
    assert "anything else" in service.cancel("web:b", "en").text
    assert service.current("web:b") is not None  # with an agent: the agent hands it back
