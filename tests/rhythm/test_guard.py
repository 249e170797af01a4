"""The overdue update guard with a controllable clock: alert, once per sink; news clears it."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from bot.rhythm.alerts import AlertBoard, SlackSink, StaffAlert, WebhookSink
from bot.rhythm.guard import OverdueGuard
from bot.status.live import LiveStatus
from bot.status.model import StatusSnapshot
from bot.status.overdue import Rhythm
from tests.helpers.slack_fake import BOT_TOKEN, running_slack_api
from tests.helpers.status_builders import (
    T0,
    FakeClock,
    component,
    incident,
    snapshot,
    summary,
    update,
)

RHYTHM = Rhythm(major=timedelta(minutes=30), minor=timedelta(minutes=60))


def snap(*updates: dict[str, object], impact: str = "minor") -> StatusSnapshot:
    return snapshot(
        summary(
            components=[component("Card payments", "major_outage")],
            incidents=[incident(*updates, impact=impact)],
        )
    )


class Recorder:
    def __init__(self) -> None:
        self.sent: list[StaffAlert] = []

    async def send(self, alert: StaffAlert) -> None:
        self.sent.append(alert)


async def test_promised_time_passes_alerts_once_and_a_new_update_clears_it() -> None:
    clock = FakeClock(T0)
    live = LiveStatus(clock=clock)
    live.accept(snap(update("identified", "Next update by 09:20 UTC.", T0)))
    sink = Recorder()
    board = AlertBoard([sink])
    guard = OverdueGuard(live, board, rhythm=RHYTHM, clock=clock)

    clock.advance(minutes=21)  # 09:21: inside the 2-minute grace
    assert await guard.check() == []
    clock.advance(minutes=2)  # 09:23: late
    [late] = await guard.check()
    assert late.reason.value == "promised"
    assert [a.kind for a in board.active()] == ["overdue_update"]
    assert "promised the next one by 09:20 UTC" in sink.sent[0].detail
    clock.advance(minutes=5)
    await guard.check()
    assert len(sink.sent) == 1  # one alert per late update, not one per check

    live.accept(
        snap(
            update("identified", "Still working on it.", clock(), uid="u2"),
            update("identified", "Next update by 09:20 UTC.", T0),
        )
    )
    assert await guard.check() == []
    assert board.active() == []


async def test_the_rhythm_alerts_on_the_webhook_and_the_slack_staff_channel() -> None:
    clock = FakeClock(T0)
    live = LiveStatus(clock=clock)
    live.accept(snap(update("investigating", "We are investigating.", T0), impact="major"))
    posted: list[dict[str, object]] = []

    def hook(request: httpx.Request) -> httpx.Response:
        posted.append(json.loads(request.content))
        return httpx.Response(204)

    webhook = WebhookSink(
        "https://hooks.example/faro", client=httpx.AsyncClient(transport=httpx.MockTransport(hook))
    )
    with running_slack_api() as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.url)
        board = AlertBoard([webhook, SlackSink(client, channel="C0STAFF")])
        guard = OverdueGuard(live, board, rhythm=RHYTHM, clock=clock)
        clock.advance(minutes=31)
        assert await guard.check() == []
        clock.advance(minutes=2)
        assert len(await guard.check()) == 1
        [call] = slack.of("chat.postMessage")
    assert call.body["channel"] == "C0STAFF"
    assert "Update overdue: Card payments failing" in call.body["text"]
    assert "every 30 min" in call.body["text"]
    [body] = posted
    assert body["kind"] == "overdue_update"
    assert body["data"]["reason"] == "rhythm"  # type: ignore[index]


async def test_a_failing_sink_does_not_silence_the_others() -> None:
    class Broken:
        async def send(self, alert: StaffAlert) -> None:
            raise RuntimeError("down")

    clock = FakeClock(T0)
    live = LiveStatus(clock=clock)
    live.accept(snap(update("investigating", "Investigating.", T0), impact="major"))
    good = Recorder()
    guard = OverdueGuard(live, AlertBoard([Broken(), good]), rhythm=RHYTHM, clock=clock)
    clock.advance(hours=1)
    await guard.check()
    assert len(good.sent) == 1
