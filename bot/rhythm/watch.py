"""The early warning at work: questions observed per topic, surges checked, staff alerted.

Topics of one customer turn: the status-page components its words name (the
same aliases status answers use), and the tags of the FAQ entry that answered
it (``tag:cards``). The FAQ wrapper notes the tags while Rasa's action runs;
the conversation wrapper counts the turn when its replies are back, by
conversation (one customer repeating themselves counts once).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bot.core.messages import BotMessage, Conversation, Turn
from bot.core.ports import FaqAnswerer, HandoffDesk, Templates
from bot.dialogue import clean_text
from bot.periodic import Periodic
from bot.rhythm.alerts import AlertBoard, StaffAlert
from bot.rhythm.detector import Surge, SurgeDetector
from bot.rhythm.questions import QuestionLog
from bot.status.components import ComponentMatcher
from bot.status.live import LiveStatus
from bot.status.model import ComponentStatus, StatusSnapshot
from faq_index import Decision

logger = logging.getLogger(__name__)

KIND = "question_surge"
TAG_PREFIX = "tag:"
_REMEMBERED = 2048
HOLD = timedelta(minutes=10)  # a surge alert stands at least this long (no flapping)


class TopicNotes:
    """The FAQ tags and outcomes of recent decisions, by question text (bounded)."""

    def __init__(self) -> None:
        self._tags: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._outcomes: OrderedDict[str, str] = OrderedDict()
        self._handed: OrderedDict[str, None] = OrderedDict()

    def note_outcome(self, text: str, outcome: str) -> None:
        """Remember how the FAQ ended ``text`` (answered, declined)."""
        _remember(self._outcomes, text, outcome)

    def take_outcome(self, text: str) -> str | None:
        """The outcome noted for ``text`` (forgotten once taken)."""
        return self._outcomes.pop(text, None)

    def note_handoff(self, conversation_id: str) -> None:
        """Remember that ``conversation_id`` asked for a person."""
        _remember(self._handed, conversation_id, None)

    def take_handoff(self, conversation_id: str) -> bool:
        """True when ``conversation_id`` asked for a person since last taken."""
        if conversation_id in self._handed:
            del self._handed[conversation_id]
            return True
        return False

    def note(self, text: str, tags: tuple[str, ...]) -> None:
        """Remember the tags of the entry that answered ``text``."""
        self._tags[text] = tags
        self._tags.move_to_end(text)
        while len(self._tags) > _REMEMBERED:
            self._tags.popitem(last=False)

    def take(self, text: str) -> tuple[str, ...]:
        """The tags noted for ``text`` (forgotten once taken)."""
        return self._tags.pop(text, ())


class ObservedFaq:
    """The ``FaqAnswerer`` port, noting the tags of each answer for the detector."""

    def __init__(self, inner: FaqAnswerer, notes: TopicNotes) -> None:
        self._inner = inner
        self._notes = notes

    def decide(self, text: str, lang: str) -> Decision:
        """Decide as the inner answerer does; note the answering entry's tags."""
        decision = self._inner.decide(text, lang)
        if decision.kind == "answer" and decision.best is not None:
            self._notes.note(text, decision.best.entry.tags)
            self._notes.note_outcome(text, "answered")
        return decision

    def entry_answer(self, faq_id: str, lang: str) -> tuple[str, str] | None:
        """As the inner answerer."""
        return self._inner.entry_answer(faq_id, lang)

    def record_unanswered(self, text: str, lang: str, *, conversation_id: str) -> None:
        """As the inner answerer (and noted as declined)."""
        self._notes.note_outcome(text, "declined")
        self._inner.record_unanswered(text, lang, conversation_id=conversation_id)


class ObservedHandoffs:
    """The ``HandoffDesk`` port, noting which conversations asked for a person."""

    def __init__(self, inner: HandoffDesk, notes: TopicNotes) -> None:
        self._inner = inner
        self._notes = notes

    def request(
        self,
        conversation_id: str,
        channel: str,
        lang: str,
        transcript: Sequence[tuple[str, str, datetime]] = (),
    ) -> BotMessage:
        """As the inner desk; noted as handed off."""
        self._notes.note_handoff(conversation_id)
        return self._inner.request(conversation_id, channel, lang, transcript)

    def cancel(self, conversation_id: str, lang: str) -> BotMessage:
        """As the inner desk."""
        return self._inner.cancel(conversation_id, lang)


class SurgeWatch:
    """Counts customer turns per topic, checks for surges on a timer, raises staff alerts."""

    def __init__(
        self,
        *,
        detector: SurgeDetector,
        live: LiveStatus,
        matcher: ComponentMatcher,
        board: AlertBoard,
        templates: Templates,
        interval_s: float = 10.0,
        clock: Callable[[], datetime] | None = None,
        questions: QuestionLog | None = None,
    ) -> None:
        self.detector = detector
        self.questions = questions
        self.notes = TopicNotes()
        self._live = live
        self._matcher = matcher
        self._board = board
        self._templates = templates
        self._interval_s = interval_s
        self._clock = clock or (lambda: datetime.now(UTC))
        self._raised: dict[str, datetime] = {}
        self._loop = Periodic(self.check, interval_s=self._interval_s, name="surge-watch")

    # -- what customers ask ----------------------------------------------------------

    def observe(self, conversation: Conversation) -> Conversation:
        """``conversation``, counting each typed customer turn for the detector."""
        return _ObservedConversation(conversation, self)

    def observe_faq(self, faq: FaqAnswerer) -> FaqAnswerer:
        """``faq``, noting the tags of each answer."""
        return ObservedFaq(faq, self.notes)

    def observe_handoffs(self, desk: HandoffDesk) -> HandoffDesk:
        """``desk``, noting which conversations asked for a person."""
        return ObservedHandoffs(desk, self.notes)

    def count(self, turn: Turn, text: str, replies: Sequence[BotMessage] = ()) -> None:
        """Count one customer turn under its topics (and log it, with how it ended)."""
        topics = self.topics(text)
        now = self._clock()
        if topics:
            self.detector.record(topics, text, now, who=turn.conversation_id)
        outcome = self.notes.take_outcome(text)
        if self.notes.take_handoff(turn.conversation_id):
            outcome = "handed_off"
        elif any(m.status is not None for m in replies):
            outcome = "status"
        if self.questions is not None:
            self.questions.record(
                conversation_id=turn.conversation_id,
                channel=turn.channel,
                lang=(turn.lang or "en").split("-")[0],
                text=text,
                topics=topics,
                outcome=outcome or "other",
                at=now,
            )

    def topics(self, text: str) -> list[str]:
        """The components ``text`` names and the tags of the entry that answered it."""
        snapshot = self._live.snapshot
        names = [c.name for c in self._matcher.match(text, snapshot)] if snapshot else []
        return [*names, *(TAG_PREFIX + t for t in self.notes.take(text))]

    # -- what the status page already says -------------------------------------------

    def known(self, topic: str) -> bool:
        """True when the status page already shows trouble for ``topic``."""
        snapshot = self._live.snapshot
        if snapshot is None:
            return False
        text = topic.removeprefix(TAG_PREFIX).replace("-", " ")
        components = [c for c in snapshot.components if c.name == text] or self._matcher.match(
            text, snapshot
        )
        return any(_troubled(snapshot, c.name, c.id, c.status) for c in components)

    # -- checking ------------------------------------------------------------------------

    async def check(self) -> list[Surge]:
        """Raise an alert per surging topic; clear alerts of topics quiet for ``HOLD``."""
        now = self._clock()
        surges = self.detector.check(now, known=self.known)
        mine = {_key(t) for t in self._raised} | {_key(s.topic) for s in surges}
        for surge in surges:
            self._raised.setdefault(surge.topic, now)
            await self._board.raise_alert(self.alert(surge))
        standing = {
            t for t, at in self._raised.items() if now - at < HOLD and not self.known(t)
        } | {s.topic for s in surges}
        self._raised = {t: at for t, at in self._raised.items() if t in standing}
        # only this process's surges: another replica counts its own customers
        keep = {_key(t) for t in standing}
        await asyncio.to_thread(self._board.clear, KIND, keep, only=mine)
        return surges

    def alert(self, surge: Surge) -> StaffAlert:
        """The staff alert for ``surge``, with a one-step announcement draft."""
        name = surge.topic.removeprefix(TAG_PREFIX)
        samples = "; ".join(f"“{s}”" for s in surge.samples[:3])
        return StaffAlert(
            kind=KIND,
            key=_key(surge.topic),
            title=f"Questions about {name} surging while the status page says operational",
            detail=(
                f"{surge.count} questions in the last "
                f"{int(self.detector.rule.window.total_seconds() // 60)} min "
                f"({surge.rate_per_min:.1f}/min against a usual {surge.baseline_per_min:.2f}/min, "
                f"{surge.ratio:.0f}x). For example: {samples}"
            ),
            raised_at=surge.at,
            data={
                "topic": surge.topic,
                "count": surge.count,
                "rate_per_min": round(surge.rate_per_min, 3),
                "baseline_per_min": round(surge.baseline_per_min, 3),
                "p_value": surge.p_value,
                "samples": list(surge.samples),
            },
            action_url=self.announcement_url(surge.topic),
        )

    def announcement_url(self, topic: str) -> str:
        """The new-announcement form, prefilled for ``topic`` (staff review, then send)."""
        name = topic.removeprefix(TAG_PREFIX)
        snapshot = self._live.snapshot
        component = snapshot.component(name) if snapshot else None
        query: dict[str, Any] = {
            lang: self._templates.render("alert.surge.draft", lang, topic=name)
            for lang in ("en", "es")
        }
        if component is not None:
            query["component"] = component.name
        return "/admin/broadcasts/new?" + urlencode(query)

    async def start(self) -> None:
        """Run in the background every interval until stopped."""
        await self._loop.start()

    async def stop(self) -> None:
        """Stop running."""
        await self._loop.stop()


class _ObservedConversation:
    """A ``Conversation`` that counts typed turns once their replies are back."""

    def __init__(self, inner: Conversation, watch: SurgeWatch) -> None:
        self._inner = inner
        self._watch = watch

    async def handle(self, turn: Turn) -> list[BotMessage]:
        replies = await self._inner.handle(turn)
        text = clean_text(turn.text or "")
        if text and turn.payload is None:
            try:
                self._watch.count(turn, text, replies)
            except Exception:  # counting must never cost a customer their answer
                logger.exception("surge watch: counting a turn failed")
        return replies


def _remember(memory: OrderedDict[str, Any], key: str, value: Any) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > _REMEMBERED:
        memory.popitem(last=False)


def _troubled(snapshot: StatusSnapshot, name: str, cid: str, status: ComponentStatus) -> bool:
    if status is not ComponentStatus.OPERATIONAL:
        return True
    for incident in snapshot.open_incidents():
        if name in incident.affected_names() or cid in {c.id for c in incident.components}:
            return True
    return False


def _key(topic: str) -> str:
    return f"surge:{topic}"
