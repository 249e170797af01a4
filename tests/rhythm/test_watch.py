"""The surge watch: customer turns counted per topic, alerts with samples and a prefilled draft."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from bot.core.messages import BotMessage, Turn
from bot.rhythm.alerts import AlertBoard
from bot.rhythm.detector import SurgeDetector
from bot.rhythm.watch import SurgeWatch
from bot.status.components import ComponentMatcher, load_aliases
from bot.status.live import LiveStatus
from bot.status.model import StatusSnapshot
from bot.templates import TemplateStore
from faq_index import Decision
from faq_index.entries import FaqEntry
from faq_index.index import Match
from tests.helpers.status_builders import (
    ALIASES,
    PROJECT,
    T0,
    FakeClock,
    component,
    incident,
    snapshot,
    summary,
    update,
)

TEMPLATES = PROJECT / "data" / "templates"


def operational() -> StatusSnapshot:
    return snapshot(summary(components=[component("Card payments"), component("ATMs", position=2)]))


def card_incident() -> StatusSnapshot:
    return snapshot(
        summary(
            components=[
                component("Card payments", "partial_outage"),
                component("ATMs", position=2),
            ],
            incidents=[incident(update("investigating", "Looking into card payments.", T0))],
        )
    )


class Echo:
    """The dialogue core's edge: replies without Rasa."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []

    async def handle(self, turn: Turn) -> list[BotMessage]:
        self.turns.append(turn)
        return [BotMessage("ok")]


def make_watch(snap: StatusSnapshot, clock: FakeClock) -> tuple[SurgeWatch, AlertBoard, LiveStatus]:
    live = LiveStatus(clock=clock)
    live.accept(snap)
    board = AlertBoard()
    watch = SurgeWatch(
        detector=SurgeDetector(),
        live=live,
        matcher=ComponentMatcher(load_aliases(ALIASES)),
        board=board,
        templates=TemplateStore.from_paths([TEMPLATES]),
        clock=clock,
    )
    return watch, board, live


async def ask(watch: SurgeWatch, echo: Echo, clock: FakeClock, text: str, n: int, who: str) -> None:
    conversation = watch.observe(echo)
    for i in range(n):
        await conversation.handle(Turn(conversation_id=f"{who}:{i}", channel="web", text=text))
        clock.advance(seconds=3)


async def test_a_surge_of_card_questions_raises_one_alert_with_a_prefilled_announcement() -> None:
    clock = FakeClock(T0)
    watch, board, _ = make_watch(operational(), clock)
    echo = Echo()
    await ask(watch, echo, clock, "is the ATM working?", 1, "early")  # history starts
    clock.advance(minutes=30)
    await ask(watch, echo, clock, "my card was declined at the shop", 30, "web")
    assert len(echo.turns) == 31  # every turn still reached the dialogue core
    [surge] = await watch.check()
    assert surge.topic == "Card payments" and surge.count >= 20
    [alert] = board.active()
    assert alert.kind == "question_surge"
    assert "Card payments" in alert.title and "operational" in alert.title
    assert "card was declined" in alert.detail
    assert alert.action_url is not None
    url = urlsplit(alert.action_url)
    query = parse_qs(url.query)
    assert url.path == "/admin/broadcasts/new"
    assert query["component"] == ["Card payments"]
    assert "problems with Card payments" in query["en"][0]
    assert "problemas con Card payments" in query["es"][0]
    await watch.check()
    assert len(board.active()) == 1  # still one alert


async def test_a_component_already_degraded_stays_quiet() -> None:
    clock = FakeClock(T0)
    watch, board, _ = make_watch(card_incident(), clock)
    echo = Echo()
    await ask(watch, echo, clock, "is the ATM working?", 1, "early")
    clock.advance(minutes=30)
    await ask(watch, echo, clock, "my card was declined at the shop", 30, "web")
    assert await watch.check() == []
    assert board.active() == []


async def test_faq_tags_are_topics_and_buttons_are_not_counted() -> None:
    clock = FakeClock(T0)
    watch, _, _ = make_watch(operational(), clock)
    entry = FaqEntry(
        id="fees", question={"en": "What are the fees?"}, answer={"en": "None."}, tags=("fees",)
    )

    class Faq:
        def decide(self, text: str, lang: str) -> Decision:
            return Decision(kind="answer", matches=(Match(entry=entry, score=0.9),))

        def entry_answer(self, faq_id: str, lang: str) -> tuple[str, str] | None:
            return None

        def record_unanswered(self, text: str, lang: str, *, conversation_id: str) -> None:
            pass

    faq = watch.observe_faq(Faq())
    faq.decide("why was I charged a fee", "en")
    assert watch.topics("why was I charged a fee") == ["tag:fees"]
    assert watch.topics("why was I charged a fee") == []  # taken once
    echo = Echo()
    conversation = watch.observe(echo)
    await conversation.handle(
        Turn(conversation_id="web:1", channel="web", text="Card", payload="/choose_faq")
    )
    assert watch.detector.check(clock() + timedelta(hours=1)) == []
    assert not watch.detector._times  # noqa: SLF001 - nothing was counted
