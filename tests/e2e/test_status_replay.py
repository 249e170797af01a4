"""A real incident replayed update by update from a loopback Statuspage, asked through Rasa."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.stack import ROOT, running_stack
from bot.templates import TemplateStore
from tests.helpers.status_server import IncidentReplay, StatuspageServer

pytestmark = pytest.mark.e2e

FIXTURE = ROOT / "tests/status/fixtures/incidents/rgy28jwprr1c.json"
TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])
QUESTIONS = {"en": "is the service down?", "es": "¿está caído el servicio?"}


def phase_words(phase: str, lang: str, name: str) -> str:
    """The fixed words of the phase's first sentence, as staff wrote them."""
    rendered = TEMPLATES.render(
        f"status.incident.{phase}", lang, as_of="@@", name=name, resolved="@@"
    )
    return max(rendered.split("@@"), key=len).strip(" ,(")


def squash(text: str) -> str:
    return " ".join(text.split())


def test_each_update_of_a_replayed_incident_reaches_the_answer_in_en_and_es(
    tmp_path: Path,
) -> None:
    replay = IncidentReplay.from_file(FIXTURE).rebased(datetime.now(UTC))
    name = replay.incident["name"]
    with StatuspageServer(replay).running() as feed:
        feed.show(1)
        env = {"FARO_STATUS_FEED": feed.url, "FARO_STATUS_POLL_INTERVAL": "0.5"}
        with running_stack(tmp_path, extra_env=env) as stack:
            for step in range(1, replay.steps + 1):
                feed.show(step)
                update = replay.update_at(step)
                for lang, question in QUESTIONS.items():
                    expected = [phase_words(update["status"], lang, name), squash(update["body"])]
                    deadline = time.monotonic() + 10
                    while True:
                        reply = squash(
                            " ".join(m["text"] for m in stack.chat(question)["messages"])
                        )
                        if all(part in reply for part in expected) or time.monotonic() > deadline:
                            break
                        time.sleep(0.3)
                    assert all(part in reply for part in expected), (step, lang, reply)
