"""Run a drill: a sandbox stack, the incident replayed at speed, simulated customers, a report.

Isolation, by construction: the drill's app has its own data folder (its own
database: no real subscriber is in it), every channel that reaches people
outside the machine is switched off (Telegram, Slack, alert webhooks), and
every reply is marked as a drill (``FARO_DRILL=1``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.broadcast.tables import broadcasts, outbox
from bot.db import Database, as_utc
from bot.drill.replay import DrillError, IncidentReplay, write_feed
from bot.faqdb.store import FaqStore
from bot.handoff.tables import handoffs
from bot.rhythm.tables import staff_alerts
from bot.stack import running_stack
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)

# Variables a drill never passes on: whatever reaches people or shared systems.
_OUTSIDE = (
    "FARO_TELEGRAM_",
    "FARO_SLACK_",
    "FARO_STAFF_ALERT_",
    "FARO_DATABASE_URL",
    "FARO_REDIS",
    "FARO_STATUS_WEBHOOK_TOKEN",
    "FARO_SMTP",
    "FARO_EMAIL",
    "FARO_SMS",
    "FARO_TWILIO",
)


@dataclass(frozen=True, slots=True)
class Question:
    """One simulated customer's question."""

    text: str
    lang: str | None = None


@dataclass
class DrillReport:
    """What happened during a drill."""

    incident_id: str
    incident_name: str
    speed: float
    duration_s: float
    updates_replayed: int
    questions: int = 0
    answered: int = 0
    declined: int = 0
    handed_off: int = 0
    failed: int = 0
    broadcasts: int = 0
    broadcast_reach: int = 0
    first_staff_change_s: float | None = None
    # staff alerts raised during the drill (late updates in drill time, surges)
    staff_alerts: list[dict[str, Any]] = field(default_factory=list)
    marked: int = 0  # replies carrying the drill marker
    replies: int = 0
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON."""
        return asdict(self)


def read_questions(path: Path) -> list[Question]:
    """Questions from a file: JSON lines ``{"text": ..., "lang": ...}`` or plain lines."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DrillError(f"{path}: {exc.strerror or exc}") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                item = json.loads(line)
                text, lang = item.get("text"), item.get("lang")
            except (json.JSONDecodeError, AttributeError):
                raise DrillError(f"{path}:{number}: not a JSON object with a text") from None
            if not isinstance(text, str) or not text.strip():
                raise DrillError(f"{path}:{number}: a question needs a text")
            questions.append(Question(text.strip(), lang if isinstance(lang, str) else None))
        else:
            questions.append(Question(line))
    if not questions:
        raise DrillError(f"{path}: no questions in it")
    return questions


DEFAULT_QUESTIONS = (
    Question("is the service down?", "en"),
    Question("why is my card declined?", "en"),
    Question("when will it be fixed?", "en"),
    Question("¿está caído el servicio?", "es"),
    Question("can I get compensation for this?", "en"),
    Question("I want to talk to a person", "en"),
)


def run_drill(
    incident_path: Path,
    *,
    project: Path,
    data_dir: Path,
    speed: float = 60.0,
    questions: list[Question] | None = None,
    env: dict[str, str] | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> DrillReport:
    """Replay the incident through a sandbox stack with simulated customers; the report."""
    if not speed > 0:
        raise DrillError("--speed must be a positive number")
    replay = IncidentReplay.from_file(incident_path)
    asked = list(questions or DEFAULT_QUESTIONS)
    data_dir.mkdir(parents=True, exist_ok=True)
    feed = data_dir / "drill-feed.json"
    start = datetime.now(UTC)
    # While the sandbox starts, the page shows no incident yet: the incident begins when the
    # replay does. (Showing update 1 from before the start made a slow start look like a
    # late update: the overdue alert came at once, in drill time, on a loaded machine.)
    write_feed(feed, replay.compressed(start=start, speed=speed).summary_before())
    extra = {
        "FARO_DRILL": "1",
        # the overdue guard and status answers keep the incident's rhythm in drill time
        "FARO_DRILL_SPEED": repr(float(speed)),
        "FARO_DRILL_ORIGIN": str(replay.updates[0]["display_at"]),
        "FARO_STATUS_FEED": str(feed),
        "FARO_STATUS_POLL_INTERVAL": "0.5",
        "FARO_WEB_RATE_PER_IP": "100000",
        "FARO_WEB_RATE_PER_SESSION": "100000",
    }
    inherited = os.environ if env is None else env
    base = {k: v for k, v in inherited.items() if not k.startswith(_OUTSIDE)}
    with running_stack(data_dir, root=project, extra_env=extra, base_env=base) as stack:
        progress(f"drill stack up at {stack.app_url} (console: {stack.app_url}/admin)")
        began = time.monotonic()
        started_at = datetime.now(UTC)
        timeline = replay.compressed(start=started_at, speed=speed)
        write_feed(feed, timeline.summary_at(1))
        offsets = [o / speed for o in replay.offsets_s()]
        duration = offsets[-1]
        report = DrillReport(
            incident_id=str(replay.incident.get("id")),
            incident_name=str(replay.incident.get("name")),
            speed=speed,
            duration_s=round(duration, 3),
            updates_replayed=replay.steps,
        )
        templates = TemplateStore.from_paths([project / "data" / "templates"])
        schedule = _schedule(len(asked), duration)
        step = 1
        for index, question in enumerate(asked):
            _sleep_until(began + schedule[index])
            while step < replay.steps and time.monotonic() - began >= offsets[step]:
                step += 1
                write_feed(feed, timeline.summary_at(step))
                progress(f"update {step}/{replay.steps}: {replay.updates[step - 1]['status']}")
            time.sleep(1.0)  # the poller picks the state up before the question
            _ask(stack, question, index, report, templates, handoffs=_handoff_counter(data_dir))
        while step < replay.steps:
            step += 1
            _sleep_until(began + offsets[step - 1])
            write_feed(feed, timeline.summary_at(step))
            progress(f"update {step}/{replay.steps}: {replay.updates[step - 1]['status']}")
        time.sleep(2.0)  # let the broadcaster see the last state
        _tally(report, data_dir, started_at)
    return report


def _schedule(count: int, duration: float) -> list[float]:
    if count <= 1 or duration <= 0:
        return [0.0] * count
    return [duration * i / count for i in range(count)]


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _handoff_counter(data_dir: Path) -> Callable[[], int]:
    """How many handoffs to a person the drill's own database has opened so far."""

    def count() -> int:
        engine = sa.create_engine(f"sqlite:///{data_dir / 'faro.db'}")
        try:
            with engine.connect() as conn:
                return int(
                    conn.execute(sa.select(sa.func.count()).select_from(handoffs)).scalar_one()
                )
        finally:
            engine.dispose()

    return count


def _ask(
    stack: Any,
    question: Question,
    index: int,
    report: DrillReport,
    t: TemplateStore,
    *,
    handoffs: Callable[[], int],
) -> None:
    report.questions += 1
    opened_before = handoffs()
    try:
        body: dict[str, Any] = {}
        if question.lang:
            body["lang"] = question.lang
        reply = stack.chat(question.text, **body)
    except Exception as exc:  # a failed turn is counted, the drill goes on
        logger.error("drill: question %d failed: %s", index, type(exc).__name__)
        report.failed += 1
        return
    texts = [str(m.get("text", "")) for m in reply.get("messages", [])]
    markers = {t.render("drill.marker", lang) for lang in ("en", "es")}
    report.replies += len(texts)
    report.marked += sum(1 for x in texts if any(x.startswith(m) for m in markers))
    joined = " ".join(texts)
    outcome = "answered"
    if handoffs() > opened_before:  # the question opened a handoff to a person
        outcome = "handed_off"
    elif any(_words(t, "faq_decline", lang) in joined for lang in ("en", "es")):
        outcome = "declined"
    elif not texts or any(
        _words(t, "dialogue_unavailable", lang) in joined for lang in ("en", "es")
    ):
        outcome = "failed"
    setattr(report, outcome, getattr(report, outcome) + 1)
    report.transcript.append({"question": question.text, "outcome": outcome, "replies": texts})


def _words(templates: TemplateStore, key: str, lang: str) -> str:
    """The fixed first words of a template (enough to recognise it in a reply)."""
    return templates.render(key, lang)[:40]


def _tally(report: DrillReport, data_dir: Path, started_at: datetime) -> None:
    database = Database.open(f"sqlite:///{data_dir / 'faro.db'}")
    try:
        with database.engine.connect() as conn:
            report.broadcasts = conn.execute(
                sa.select(sa.func.count()).select_from(broadcasts)
            ).scalar_one()
            report.broadcast_reach = conn.execute(
                sa.select(sa.func.count()).select_from(outbox)
            ).scalar_one()
            raised = conn.execute(
                sa.select(staff_alerts.c.kind, staff_alerts.c.title, staff_alerts.c.raised_at)
                .where(staff_alerts.c.kind != "drill")
                .order_by(staff_alerts.c.raised_at)
            ).all()
        report.staff_alerts = [
            {
                "kind": kind,
                "title": title,
                "after_s": round((as_utc(at) - started_at).total_seconds(), 3),
            }
            for kind, title, at in raised
        ]
        changes = [
            r.at for r in FaqStore(database.engine).audit(limit=10_000) if r.at >= started_at
        ]
        if changes:
            report.first_staff_change_s = round((min(changes) - started_at).total_seconds(), 3)
    finally:
        database.engine.dispose()


def iter_lines(report: DrillReport) -> Iterator[str]:
    """The report for people."""
    yield f"Drill of incident {report.incident_id} ({report.incident_name})"
    replayed = f"{report.updates_replayed} updates replayed in {report.duration_s:g} s"
    yield f"  {replayed} (x{report.speed:g})"
    yield (
        f"  questions {report.questions}: answered {report.answered}, declined "
        f"{report.declined}, handed off {report.handed_off}, failed {report.failed}"
    )
    yield f"  replies marked as a drill: {report.marked}/{report.replies}"
    reach = f"reaching {report.broadcast_reach} (drill subscribers only)"
    yield f"  broadcasts {report.broadcasts}, {reach}"
    for alert in report.staff_alerts:
        yield f"  staff alert after {alert['after_s']:g} s: {alert['title']}"
    first = report.first_staff_change_s
    yield f"  first staff change: {'none' if first is None else f'{first:g} s after the start'}"
