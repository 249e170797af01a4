"""The drill's sandbox feed: a recorded incident, compressed in time, step by step."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from bot.core.messages import BotMessage, Turn
from bot.drill.marking import DrillComposer, DrillConversation
from bot.drill.replay import DrillError, IncidentReplay, write_feed
from bot.drill.run import Question, read_questions
from bot.status.statuspage import parse_document
from bot.templates import TemplateStore
from tests.helpers.status_builders import FIXTURES, PROJECT

INCIDENT = FIXTURES / "incidents" / "rgy28jwprr1c.json"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_recorded_incident_is_compressed_to_start_now() -> None:
    replay = IncidentReplay.from_file(INCIDENT)
    assert replay.offsets_s() == pytest.approx([0, 613.063, 985.33, 1545.0], abs=0.01)
    fast = replay.compressed(start=START, speed=60)
    first = parse_document(fast.summary_at(1))
    [incident] = first.open_incidents()
    assert incident.latest_update is not None
    assert incident.latest_update.display_at == START
    assert incident.status.value == "investigating"
    last = parse_document(fast.summary_at(replay.steps))
    assert last.open_incidents() == []
    [resolved] = last.resolved_incidents()
    assert resolved.resolved_at == START + timedelta(seconds=1545.0 / 60)
    assert len(resolved.updates) == 4


def test_the_feed_file_is_replaced_whole(tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    replay = IncidentReplay.from_file(INCIDENT).compressed(start=START, speed=10)
    write_feed(feed, replay.summary_at(2))
    assert json.loads(feed.read_text())["incidents"][0]["status"] == "identified"
    assert not (tmp_path / "feed.tmp").exists()


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("not json", "not JSON"),
        ('{"page": {}}', "missing 'incident'"),
        ('{"page": {}, "incident": {"incident_updates": []}}', "no updates"),
    ],
)
def test_bad_incident_files_are_one_clear_error(tmp_path: Path, content: str, error: str) -> None:
    path = tmp_path / "incident.json"
    path.write_text(content)
    with pytest.raises(DrillError, match=error):
        IncidentReplay.from_file(path)


def test_questions_as_json_lines_or_plain_lines(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text('# customers\n{"text": "¿está caído?", "lang": "es"}\nis it down?\n\n')
    assert read_questions(path) == [Question("¿está caído?", "es"), Question("is it down?")]
    path.write_text('{"lang": "es"}\n')
    with pytest.raises(DrillError, match="q.txt:1: a question needs a text"):
        read_questions(path)


def test_the_cli_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["drill", "run", str(tmp_path / "missing.json")])
    assert result.exit_code == 2
    assert result.output.strip().endswith("missing.json: no such file")
    assert "Traceback" not in result.output
    help_text = runner.invoke(cli, ["drill", "run", "--help"]).output
    assert "--speed" in help_text and "--questions" in help_text and "--json" in help_text


async def test_every_reply_is_marked_as_a_drill_in_the_customers_language() -> None:
    class Inner:
        async def handle(self, turn: Turn) -> list[BotMessage]:
            return [BotMessage("first"), BotMessage("second")]

    templates = TemplateStore.from_paths([PROJECT / "data" / "templates"])
    marked = DrillConversation(Inner(), templates)
    en = await marked.handle(Turn(conversation_id="web:1", channel="web", text="hi", lang="en"))
    es = await marked.handle(Turn(conversation_id="web:1", channel="web", text="hola", lang="es"))
    assert [m.text for m in en] == [
        f"{templates.render('drill.marker', 'en')} first",
        f"{templates.render('drill.marker', 'en')} second",
    ]
    assert all(m.text.startswith("[SIMULACRO") for m in es)


def test_broadcasts_of_a_drill_are_marked_too() -> None:
    templates = TemplateStore.from_paths([PROJECT / "data" / "templates"])
    composer = DrillComposer(templates)
    text = composer.announcement_text({"en": "Card payments work again."}, "es", "web")
    assert text.startswith("[SIMULACRO")
    assert "Card payments work again." in text
