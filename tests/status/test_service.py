"""LiveStatusService: the StatusService port actions call."""

from __future__ import annotations

from bot.core.messages import BotMessage, Phase
from bot.status.answers import AnswerWriter
from bot.status.components import ComponentMatcher, load_aliases
from bot.status.live import LiveStatus
from bot.status.service import LiveStatusService
from bot.status.statuspage import loads
from bot.templates import TemplateStore
from tests.helpers.status_builders import ALIASES, SAMPLE_FEED, FakeClock


def service(templates: TemplateStore, clock: FakeClock) -> LiveStatusService:
    live = LiveStatus(clock=clock)
    live.accept(loads(SAMPLE_FEED.read_bytes()))
    return LiveStatusService(
        live, writer=AnswerWriter(templates), matcher=ComponentMatcher(load_aliases(ALIASES))
    )


def test_reply_carries_text_and_what_it_was_about(
    templates: TemplateStore, clock: FakeClock
) -> None:
    reply = service(templates, clock).status_reply("¿funciona la tarjeta?", "es")
    assert isinstance(reply, BotMessage) and reply.buttons == ()
    assert reply.text.startswith(
        "A las 09:00 UTC, hay una interrupción parcial que afecta a Card payments."
    )
    card = reply.status
    assert card is not None
    assert card.phase is Phase.IDENTIFIED and card.incident_id == "nw7k2x9card1"
    assert card.components == ("Card payments",) and card.stale is False
    assert card.as_of is not None and card.as_of.isoformat().startswith("2026-03-02T09:00")


def test_eta_flag_reaches_the_answer(templates: TemplateStore, clock: FakeClock) -> None:
    reply = service(templates, clock).status_reply("when will it be fixed?", "en", eta=True)
    assert "We don't have an estimate for the fix yet" in reply.text


def test_stale_after_feed_failures(templates: TemplateStore, clock: FakeClock) -> None:
    svc = service(templates, clock)
    clock.advance(minutes=25)
    reply = svc.status_reply("is it down?", "en")
    assert reply.status is not None and reply.status.stale is True
    assert "when we last confirmed it, 25 minutes ago" in reply.text


def test_before_any_state(templates: TemplateStore, clock: FakeClock) -> None:
    svc = LiveStatusService(LiveStatus(clock=clock), writer=AnswerWriter(templates))
    reply = svc.status_reply("is it down?", "en")
    assert reply.status is not None and reply.status.phase is Phase.UNAVAILABLE
