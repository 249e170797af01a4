"""The post-incident report: gathered from what the app stores, in the console, as
``faro report`` (HTML or CSV), and rendered in headless Chromium (screenshots looked at)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from playwright.sync_api import sync_playwright
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.admin import admin_routes
from bot.admin.report import render_csv, render_file
from bot.broadcast.tables import broadcasts, outbox, subscriptions
from bot.cli.main import cli
from bot.db import Database
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.handoff.store import HandoffStore
from bot.handoff.tables import handoffs
from bot.rhythm.questions import QuestionLog
from bot.rhythm.report import CSV_COLUMNS, UnknownIncident, build_report
from bot.rhythm.tables import staff_alerts
from bot.status.model import StatusSnapshot
from bot.status.statuspage import loads
from bot.status.store import SavedState, StateStore
from bot.store import AppStore, unanswered
from faq_index import load_encoder
from tests.admin.conftest import PASSWORD
from tests.faq_store.builders import write_seed
from tests.helpers.status_builders import PROJECT, SAMPLE_FEED
from tests.rhythm.test_console import Console
from tests.widget.conftest import CHROMIUM_ARGS, SCREENSHOTS, chromium_path

INCIDENT = "nw7k2x9card1"  # the shipped demo incident (opened 2026-11-22 09:12 UTC)
OPENED = datetime(2026, 11, 22, 9, 12, 4, 601000, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def demo() -> StatusSnapshot:
    return loads(SAMPLE_FEED.read_text())


def fill(engine: sa.Engine) -> None:
    """An incident's worth of traffic: questions, unanswered ones, broadcasts, a handoff."""
    log = QuestionLog(engine)
    traffic = [  # (minutes after opening, who, topics, outcome, text)
        (-20, "web:early", ["Card payments"], "status", "is card payment down?"),
        *[
            (m, f"web:c{m}", ["Card payments", "tag:cards"], "answered", "my card was declined")
            for m in range(0, 40, 2)
        ],
        *[(m, f"telegram:{m}", ["Card payments"], "status", "card down?") for m in range(5, 60, 5)],
        (12, "web:s-1", ["ATMs"], "answered", "can I use the ATM?"),
        (30, "web:help", [], "handed_off", "I want a person"),
        (45, "web:x", [], "declined", "will you refund my fees?"),
        (50, "web:y", [], "declined", "Will you refund my  fees?"),
        (55, "web:z", [], "declined", "can I get compensation"),
        (200, "web:late", ["Card payments"], "status", "still down?"),
    ]
    for minutes, who, topics, outcome, text in traffic:
        log.record(
            conversation_id=who, channel=who.split(":")[0], lang="en", text=text,
            topics=topics, outcome=outcome, at=OPENED + timedelta(minutes=minutes),
        )  # fmt: skip
    log.flush()
    with engine.begin() as conn:
        # (the last two: one group by meaning, as the console's grouper stores it)
        for minutes, text, group in [
            (45, "will you refund my fees?", None), (50, "Will you refund my  fees?", None),
            (55, "can I get compensation", None), (-600, "old question", None),
            (56, "money back for the outage?", 7), (57, "do I get reimbursed", 7),
        ]:  # fmt: skip
            conn.execute(
                unanswered.insert().values(
                    asked_at=OPENED + timedelta(minutes=minutes), conversation_id="web:x",
                    lang="en", text=text, normalized=" ".join(text.lower().split()),
                    group_id=group,
                )
            )  # fmt: skip
        for who, address in [("web:s-1", "s-1"), ("web:never-asked", "n")]:
            conn.execute(
                subscriptions.insert().values(
                    conversation_id=who, channel="web", address=address, lang="en",
                    components="", active=True, created_at=OPENED, updated_at=OPENED,
                )
            )  # fmt: skip
        for n, (minutes, kind, title, by, sent) in enumerate(
            [
                (1, "incident", "Some card payments are being declined", "status feed",
                 {("telegram", "sent"): 3, ("web", "sent"): 2, ("email", "failed"): 1}),
                (36, "incident", "Some card payments are being declined", "status feed",
                 {("telegram", "sent"): 3, ("sms", "sent"): 1}),
                (50, "announcement", "Card payments: please wait before retrying", "admin:Ana",
                 {("slack", "sent"): 2}),
            ]
        ):  # fmt: skip
            key = conn.execute(
                broadcasts.insert().values(
                    key=f"b{n}", kind=kind, incident_id=INCIDENT, title=title, components="",
                    created_at=OPENED + timedelta(minutes=minutes), created_by=by,
                    recipients=sum(sent.values()),
                )
            ).inserted_primary_key  # fmt: skip
            assert key is not None
            for (channel, state), count in sent.items():
                for i in range(count):
                    conn.execute(
                        outbox.insert().values(
                            broadcast_id=key[0], conversation_id=f"{channel}:{n}-{i}",
                            channel=channel, address="a", lang="en", text="t", state=state,
                            attempts=1, due_at=OPENED, interrupted=0,
                        )
                    )  # fmt: skip
        conn.execute(
            staff_alerts.insert().values(
                key="nw7k2x9card1@x", kind="overdue_update", title="Update overdue: cards",
                detail="promised 10:45", raised_at=datetime(2026, 11, 22, 10, 47, tzinfo=UTC),
                data="{}", action_url=None,
            )
        )  # fmt: skip
    desk = HandoffStore(engine)
    handoff, _ = desk.open("web:help", "web", "en", transcript=[("user", "a person", OPENED)])
    assert desk.claim(handoff.id, "agent-ana")
    with engine.begin() as conn:
        conn.execute(
            handoffs.update()
            .where(handoffs.c.id == handoff.id)
            .values(
                opened_at=OPENED + timedelta(minutes=30),
                claimed_at=OPENED + timedelta(minutes=32),
            )
        )


@pytest.fixture
def app_db(tmp_path: Path) -> Iterator[Database]:
    db = Database.open(f"sqlite:///{tmp_path}/data/faro.db")
    fill(db.engine)
    yield db
    db.dispose()


def test_the_report_gathers_the_incident_from_what_the_app_stores(app_db: Database) -> None:
    report = build_report(demo(), INCIDENT, engine=app_db.engine, now=NOW)
    assert report.name == "Some card payments are being declined"
    started = datetime(2026, 11, 22, 8, 55, tzinfo=UTC)  # the incident's started_at
    assert report.start == started and report.end is None and report.impact == "major"
    kinds = [e.kind for e in report.timeline]
    assert kinds.count("status_update") == 2 and kinds.count("broadcast") == 3
    assert kinds.count("handoff") == 1 and kinds.count("staff_alert") == 1
    assert [e.at for e in report.timeline] == sorted(e.at for e in report.timeline)
    assert report.timeline[0].kind == "status_update" and report.timeline[0].status == (
        "investigating"
    )
    # questions: from 30 min before it started; the one 200 min later counts (still open)
    assert report.questions == 1 + 20 + 11 + 1 + 1 + 3 + 1
    assert report.outcomes == {"status": 13, "answered": 21, "handed_off": 1, "declined": 3}
    assert report.topics[:2] == ["Card payments", "tag:cards"]
    # a question counts under each topic: cards 33, tag:cards 20, ATMs 1, no topic 4
    assert sum(sum(c.values()) for _, c in report.volume) == 33 + 20 + 1 + 4
    assert report.unanswered[0] == ("Will you refund my  fees?", "en", 2)  # normalized together
    assert ("do I get reimbursed", "en", 2) in report.unanswered  # one group by meaning
    assert "old question" not in [t for t, _, _ in report.unanswered]
    first = report.told[0]
    assert first.per_channel == {
        "telegram": {"sent": 3},
        "web": {"sent": 2},
        "email": {"failed": 1},
    }
    assert report.handoffs[0]["claimed_by"] == "agent-ana" and report.handoffs[0]["wait_s"] == 120
    # follow-up: only who asked AND agreed (a subscriber, or asked for a person)
    assert [(f.conversation_id, f.basis) for f in report.follow_up] == [
        ("web:help", "asked_for_person"),
        ("web:s-1", "subscribed"),
    ]
    with pytest.raises(UnknownIncident, match="no incident 'nope'"):
        build_report(demo(), "nope", engine=app_db.engine)


def test_csv_has_one_row_per_timeline_event_and_html_draws_the_chart(app_db: Database) -> None:
    report = build_report(demo(), INCIDENT, engine=app_db.engine, now=NOW)
    rows = list(csv.reader(io.StringIO(render_csv(report))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == len(report.timeline)
    broadcast = next(r for r in rows[1:] if r[1] == "broadcast")
    assert broadcast[6] == "6" and "telegram: 3" in broadcast[4]
    assert datetime.fromisoformat(rows[1][0]) == OPENED
    html = render_file(report)
    assert html.count('<svg class="chart"') == 1 and html.count("<rect ") > 10
    assert "<style>" in html and ".report .figures" in html  # the file carries its stylesheet
    assert "<script" not in html
    assert "Informe de la incidencia" not in html
    assert "Informe de la incidencia" in render_file(report, "es")


def test_the_console_lists_incidents_and_shows_and_downloads_the_report(
    app_db: Database, tmp_path: Path
) -> None:
    app = console_app(app_db, tmp_path)
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/admin/report", follow_redirects=False).status_code == 303  # sign in
        login(client)
        listing = client.get("/admin/report").text
        assert f'href="/admin/report/{INCIDENT}"' in listing
        page = client.get(f"/admin/report/{INCIDENT}")
        assert page.status_code == 200 and '<svg class="chart"' in page.text
        assert "Customers to follow up" in page.text and "web:s-1" in page.text
        assert "web:never-asked" not in page.text
        assert (
            "Clientes a quienes dar seguimiento"
            in client.get(f"/admin/report/{INCIDENT}?ui=es").text
        )
        data = client.get(f"/admin/report/{INCIDENT}?format=csv")
        assert data.headers["content-type"].startswith("text/csv")
        assert data.text.startswith(",".join(CSV_COLUMNS))
        assert "attachment" in data.headers["content-disposition"]
        assert client.get(f"/admin/report/{INCIDENT}?format=html").text.startswith("<!doctype")
        assert client.get("/admin/report/nope").status_code == 404


def test_faro_report_prints_or_writes_html_and_csv_and_one_line_for_an_unknown_incident(
    app_db: Database, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    StateStore(data_dir / "state" / "status.json").save(SavedState(demo(), confirmed_at=None))
    env = {"FARO_DATA_DIR": str(data_dir), "FARO_PROJECT_DIR": str(PROJECT)}
    runner = CliRunner()
    html = runner.invoke(cli, ["report", INCIDENT], env=env)
    assert html.exit_code == 0, html.output
    assert html.output.startswith("<!doctype html>") and "Some card payments" in html.output
    out = tmp_path / "r.csv"
    written = runner.invoke(cli, ["report", INCIDENT, "--format", "csv", "-o", str(out)], env=env)
    assert written.exit_code == 0, written.output
    assert out.read_text().splitlines()[0] == ",".join(CSV_COLUMNS)
    unknown = runner.invoke(cli, ["report", "nope"], env=env)
    assert unknown.exit_code == 2
    assert unknown.output == "error: no incident 'nope' in the status history\n"
    bad = runner.invoke(cli, ["report", INCIDENT, "--format", "pdf"], env=env)
    assert bad.exit_code == 2 and "pdf" in bad.output
    helped = runner.invoke(cli, ["report", "--help"], env=env)
    assert helped.exit_code == 0 and "--format [html|csv]" in helped.output


def console_app(db: Database, tmp_path: Path) -> Starlette:
    store = AppStore(db.engine)
    faq_store = FaqStore(db.engine)
    faq = FaqService.from_store(
        faq_store, encoder=load_encoder("hashing"), store=store, seed_paths=[write_seed(tmp_path)]
    )
    routes = admin_routes(
        password=PASSWORD, token=None, session_secret="test-session-secret",
        faq_store=faq_store, faq=faq, app_store=store, snapshot=demo,
    )  # fmt: skip
    return Starlette(routes=routes)


def login(client: TestClient) -> None:
    token = _CSRF.search(client.get("/admin/login").text)
    assert token
    client.post("/admin/login", data={"csrf": token.group(1), "name": "Ana", "password": PASSWORD})


def test_the_report_in_chromium_on_a_laptop_and_a_phone(app_db: Database, tmp_path: Path) -> None:
    server = Console(console_app(app_db, tmp_path))
    standalone = tmp_path / "report.html"
    standalone.write_text(
        render_file(build_report(demo(), INCIDENT, engine=app_db.engine, now=NOW)),
        encoding="utf-8",
    )
    errors: list[str] = []
    with server.running(), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "response",
                lambda r: (
                    errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None
                ),
            )
            base = f"http://127.0.0.1:{server.port}"
            page.goto(f"{base}/admin/login")
            page.fill("input[name=name]", "Ana")
            page.fill("input[name=password]", PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/admin")
            page.goto(f"{base}/admin/report")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.set_viewport_size({"width": 390, "height": 600})
            page.screenshot(path=str(SCREENSHOTS / "report-list-phone.png"))
            page.set_viewport_size({"width": 1100, "height": 900})
            link = page.get_by_role("link", name="Some card payments are being declined")
            link.focus()
            page.keyboard.press("Enter")  # keyboard-usable
            page.wait_for_url(f"{base}/admin/report/{INCIDENT}")
            chart = page.locator("svg.chart")
            box = chart.bounding_box()
            assert box is not None and box["width"] > 600 and box["height"] > 150
            assert page.locator("svg.chart rect").count() > 10
            assert page.locator("table.timeline tbody tr").count() == 7
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "report-console.png"), full_page=True)
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.on("pageerror", lambda e: errors.append(str(e)))
            phone.goto(standalone.as_uri())
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the report is {width}px wide on a 390px phone"
            # the chart keeps a legible size and scrolls sideways inside its own box
            phone_box = phone.locator("figure .scroll").bounding_box()
            chart_box = phone.locator("svg.chart").bounding_box()
            assert phone_box is not None and phone_box["width"] <= 390
            assert chart_box is not None and chart_box["width"] >= 500
            phone.screenshot(path=str(SCREENSHOTS / "report-phone.png"), full_page=True)
            wide = browser.new_page(viewport={"width": 1000, "height": 1100})
            wide.goto(standalone.as_uri())
            wide.screenshot(path=str(SCREENSHOTS / "incident-report.png"), full_page=False)
        finally:
            browser.close()
    assert errors == []
