"""Replay recorded incidents through a real loopback Statuspage, update by update.

After each update the answer reflects that update's phase and quotes its
text, in English and Spanish. (The Rasa round trip on top of this lives with
the end-to-end tests and reuses tests/helpers/status_server.py.)
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.status.answers import AnswerWriter
from bot.status.components import ComponentMatcher, load_aliases
from bot.status.live import LiveStatus
from bot.status.poller import StatusPoller
from bot.status.service import LiveStatusService
from bot.status.sources import StatuspageSource
from bot.status.wording import quote
from bot.templates import TemplateStore
from tests.helpers.status_builders import ALIASES, FIXTURES, FakeClock
from tests.helpers.status_server import Failure, IncidentReplay, StatuspageServer

PHASE_WORDS = {
    "investigating": (
        "we are aware of a problem and are investigating it",
        "lo estamos investigando",
    ),
    "identified": ("we have found the cause of a problem", "hemos encontrado la causa"),
    "monitoring": (
        "a fix is in place and we are checking that it works",
        "ya hemos aplicado una solución",
    ),
    "resolved": ("this problem has been resolved", "este problema está resuelto"),
}


class Bot:
    """The status side of the bot, reading a loopback Statuspage."""

    def __init__(self, url: str, templates: TemplateStore, clock: FakeClock) -> None:
        self.live = LiveStatus(clock=clock)
        self.source = StatuspageSource(url, timeout=1.0)
        self.poller = StatusPoller(self.source, self.live, interval=1)
        self.service = LiveStatusService(
            self.live,
            writer=AnswerWriter(templates),
            matcher=ComponentMatcher(load_aliases(ALIASES)),
        )

    def ask(self, text: str, lang: str, *, eta: bool = False) -> str:
        return self.service.status_reply(text, lang, eta=eta).text


@pytest.mark.parametrize("name", ["rgy28jwprr1c", "b40k7ckrs7sp"])
async def test_replay_incident_update_by_update(name: str, templates: TemplateStore) -> None:
    replay = IncidentReplay.from_file(FIXTURES / "incidents" / f"{name}.json")
    clock = FakeClock()
    async with StatuspageServer(replay) as server:
        bot = Bot(server.url, templates, clock)
        try:
            for step in range(1, replay.steps + 1):
                server.show(step)
                clock.now = replay.moment_at(step)
                assert await bot.poller.poll_once()
                posted = replay.update_at(step)
                words_en, words_es = PHASE_WORDS[posted["status"]]
                text = quote(posted["body"])
                en = bot.ask("Is GitHub down?", "en")
                es = bot.ask("¿Está caído GitHub?", "es")
                assert words_en in en, (step, en)
                assert words_es in es, (step, es)
                assert en.startswith("As of ") and es.startswith("A las ")
                assert f"“{text}”" in en and f"«{text}»" in es  # quoted as the page wrote it
                assert replay.incident["name"] in en and replay.incident["name"] in es
                if posted["status"] != "resolved":
                    eta_en = bot.ask("When will it be fixed?", "en", eta=True)
                    assert "We don't have an estimate for the fix yet" in eta_en
                    assert "gives this estimate" not in eta_en
        finally:
            await bot.source.aclose()


async def test_replay_all_four_phases_are_seen(templates: TemplateStore) -> None:
    replay = IncidentReplay.from_file(FIXTURES / "incidents" / "rgy28jwprr1c.json")
    assert [replay.update_at(s)["status"] for s in range(1, replay.steps + 1)] == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
    ]
    clock = FakeClock()
    async with StatuspageServer(replay) as server:
        bot = Bot(server.url, templates, clock)
        phases = []
        for step in range(1, replay.steps + 1):
            server.show(step)
            clock.now = replay.moment_at(step)
            await bot.poller.poll_once()
            card = bot.service.status_reply("is it down?", "en").status
            phases.append(card.phase if card else None)
        await bot.source.aclose()
    assert phases == ["investigating", "identified", "monitoring", "resolved"]


async def test_unchanged_feed_is_a_304_and_confirms(templates: TemplateStore) -> None:
    replay = IncidentReplay.from_file(FIXTURES / "incidents" / "rgy28jwprr1c.json")
    clock = FakeClock(replay.moment_at(2))
    async with StatuspageServer(replay, step=2) as server:
        bot = Bot(server.url, templates, clock)
        await bot.poller.poll_once()
        first = bot.live.snapshot
        clock.advance(minutes=2)
        await bot.poller.poll_once()
        await bot.source.aclose()
        statuses = [r.status for r in server.requests]
    assert statuses == [200, 200, 200, 304, 304, 304]
    assert bot.live.snapshot is first and bot.live.confirmed_at == clock.now


@pytest.mark.parametrize(
    "failure",
    [
        Failure(status=500, body=b"Internal Server Error", content_type="text/plain"),
        Failure(
            status=200, body=b"<html><body>Maintenance</body></html>", content_type="text/html"
        ),
        Failure(status=200, body=b'{"page": {"id": "x"}, "incidents": [{"id"'),
        Failure(delay_s=1.5),  # longer than the bot's 1s timeout
    ],
    ids=["500", "html", "truncated", "timeout"],
)
async def test_bad_feed_keeps_answering_from_the_last_good_state(
    failure: Failure, templates: TemplateStore, caplog: pytest.LogCaptureFixture
) -> None:
    replay = IncidentReplay.from_file(FIXTURES / "incidents" / "rgy28jwprr1c.json")
    clock = FakeClock(replay.moment_at(1))
    async with StatuspageServer(replay) as server:
        bot = Bot(server.url, templates, clock)
        assert await bot.poller.poll_once()
        server.show(2)
        server.fail(failure)
        clock.advance(minutes=15)
        caplog.clear()
        caplog.set_level(logging.WARNING)
        assert not await bot.poller.poll_once()
        (record,) = caplog.records
        assert "serving the state confirmed 15 min ago" in record.getMessage()
        en = bot.ask("is it down?", "en")
        assert "we are aware of a problem and are investigating it" in en
        assert "when we last confirmed it, 15 minutes ago" in en
        server.fail(None)
        assert await bot.poller.poll_once()
        assert "we have found the cause of a problem" in bot.ask("is it down?", "en")
        await bot.source.aclose()


def test_replay_documents_follow_statuspage() -> None:
    replay = IncidentReplay.from_file(FIXTURES / "incidents" / "rgy28jwprr1c.json")
    first, last = replay.documents_at(1), replay.documents_at(replay.steps)
    assert first["summary.json"]["status"]["indicator"] == "critical"
    assert [u["status"] for u in first["summary.json"]["incidents"][0]["incident_updates"]] == [
        "investigating"
    ]
    assert first["summary.json"]["components"][0]["status"] == "major_outage"
    assert (
        last["summary.json"]["incidents"] == []
        and last["incidents/unresolved.json"]["incidents"] == []
    )
    assert last["incidents.json"]["incidents"][0]["resolved_at"] == "2019-09-23T16:37:46.707Z"
    assert replay.moment_at(1) - timedelta(seconds=30) < replay.moment_at(2)
    with pytest.raises(ValueError):
        replay.documents_at(0)


def test_sync_mode_serves_from_a_thread() -> None:
    import httpx

    replay = IncidentReplay.from_file(FIXTURES / "incidents" / "rgy28jwprr1c.json")
    with StatuspageServer(replay).running() as server:
        server.advance()
        body = httpx.get(f"{server.url}/api/v2/incidents.json", timeout=5).json()
    assert body["incidents"][0]["status"] == "identified"
