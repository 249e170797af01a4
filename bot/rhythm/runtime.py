"""The crisis rhythm of one app process: the alert board, the overdue guard, the surge watch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import httpx
import sqlalchemy as sa
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.ports import Templates
from bot.rhythm.alerts import AlertBoard, AlertSink, SlackSink, StaffAlert, WebhookSink
from bot.rhythm.detector import SurgeDetector, SurgeRule
from bot.rhythm.guard import OverdueGuard
from bot.rhythm.questions import QuestionLog
from bot.rhythm.watch import SurgeWatch
from bot.settings import DrillSettings, RhythmSettings
from bot.status.components import ComponentMatcher
from bot.status.live import LiveStatus
from bot.status.overdue import DrillTime, Rhythm

SLACK_API_URL = "https://slack.com/api/"
DRILL_ALERT = StaffAlert(
    kind="drill",
    key="drill",
    title="DRILL: this is a rehearsal",
    detail=(
        "Everything Faro says here is marked [DRILL]; nothing reaches real subscribers. "
        "Practise freely: the drill report counts your first FAQ or template change."
    ),
    raised_at=datetime(2000, 1, 1, tzinfo=UTC),  # first on the board
)


def rhythm_from(settings: RhythmSettings, drill: DrillSettings | None = None) -> Rhythm:
    """The update rhythm the settings give (0 minutes: no rhythm for that impact);
    compressed by the drill's speed during a drill."""
    rhythm = _rhythm_from(settings)
    if drill is not None and drill.on and drill.speed != 1.0:
        return rhythm.compressed(DrillTime(speed=drill.speed, origin=drill.origin))
    return rhythm


def _rhythm_from(settings: RhythmSettings) -> Rhythm:

    def every(minutes: int) -> timedelta | None:
        return timedelta(minutes=minutes) if minutes > 0 else None

    return Rhythm(
        critical=every(settings.critical_minutes),
        major=every(settings.major_minutes),
        minor=every(settings.minor_minutes),
        grace=timedelta(minutes=settings.grace_minutes),
    )


def surge_rule_from(settings: RhythmSettings) -> SurgeRule:
    """The detector's thresholds the settings give."""
    return SurgeRule(
        window=timedelta(seconds=settings.surge_window_s),
        baseline=timedelta(minutes=settings.surge_baseline_minutes),
        min_count=settings.surge_min_count,
        min_ratio=settings.surge_min_ratio,
        p_value=settings.surge_p_value,
    )


@dataclass(kw_only=True)
class CrisisRhythm:
    """What runs the rhythm: the board staff see, the guard and the watch (a ``Background``)."""

    board: AlertBoard
    guard: OverdueGuard
    watch: SurgeWatch
    questions: QuestionLog | None = None
    drill: bool = False  # a drill runs: the console shows a DRILL banner throughout

    async def start(self) -> None:
        """Start the guard's and the watch's timers (and the question log's writer)."""
        if self.drill:
            await self.board.raise_alert(DRILL_ALERT)
        if self.questions is not None:
            await self.questions.start()
        await self.guard.start()
        await self.watch.start()

    async def stop(self) -> None:
        """Stop them (the question log writes what it still holds)."""
        await self.watch.stop()
        await self.guard.stop()
        if self.drill:  # the drill is over: its banner goes
            await asyncio.to_thread(self.board.dismiss, DRILL_ALERT.key, by="faro:drill")
        if self.questions is not None:
            await self.questions.stop()


def build_rhythm(
    settings: RhythmSettings,
    *,
    live: LiveStatus,
    matcher: ComponentMatcher,
    templates: Templates,
    tz: tzinfo = UTC,
    slack_token: str | None = None,
    slack_api_url: str | None = None,
    engine: sa.Engine | None = None,
    drill: DrillSettings | None = None,
) -> CrisisRhythm:
    """Wire the board (with the Slack staff channel and the webhook when set), guard and watch."""
    sinks: list[AlertSink] = []
    if settings.alert_webhook_url:
        sinks.append(WebhookSink(settings.alert_webhook_url, client=httpx.AsyncClient(timeout=10)))
    if settings.slack_staff_channel and slack_token:
        client = AsyncWebClient(token=slack_token, base_url=slack_api_url or SLACK_API_URL)
        sinks.append(SlackSink(client, channel=settings.slack_staff_channel))
    drilling = drill is not None and drill.on
    board = AlertBoard(sinks, engine=engine)
    questions = QuestionLog(engine) if engine is not None else None
    guard = OverdueGuard(
        live,
        board,
        rhythm=rhythm_from(settings, drill),
        tz=tz,
        interval_s=min(settings.check_interval_s, 1.0) if drilling else settings.check_interval_s,
    )
    watch = SurgeWatch(
        detector=SurgeDetector(surge_rule_from(settings)),
        live=live,
        matcher=matcher,
        board=board,
        templates=templates,
        interval_s=min(settings.check_interval_s, 10.0),
        questions=questions,
    )
    return CrisisRhythm(board=board, guard=guard, watch=watch, questions=questions, drill=drilling)
