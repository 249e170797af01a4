"""Staff alerts live in the database: every replica and a restart see the same ones, an alert
is sent once whichever replica raises it, and dismissing it on one clears it everywhere."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.admin import admin_routes
from bot.db import Database
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.rhythm.alerts import AlertBoard, StaffAlert
from bot.rhythm.guard import OverdueGuard
from bot.status.live import LiveStatus
from bot.status.overdue import Rhythm
from bot.store import AppStore
from faq_index import load_encoder
from tests.admin.conftest import PASSWORD
from tests.faq_store.builders import postgres_schema, write_seed
from tests.helpers.status_builders import T0, FakeClock, component, incident, snapshot, summary
from tests.helpers.status_builders import update as status_update


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, alert: StaffAlert) -> None:
        self.sent.append(alert.key)


@contextlib.contextmanager
def two_replicas(backend: str, tmp_path: Path) -> Iterator[tuple[Database, Database, str]]:
    """Two app processes' databases (own engines and pools) on the same database."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/app.db"
        a, b = Database.open(url), Database.open(url)
        yield a, b, url
        a.dispose()
        b.dispose()
        return
    with postgres_schema() as url:
        a, b = Database.open(url), Database.open(url)
        yield a, b, url
        a.dispose()
        b.dispose()


def alert(key: str = "inc1@t", kind: str = "overdue_update") -> StaffAlert:
    return StaffAlert(
        kind=kind, key=key, title="Update overdue: Card payments", detail="10 min late",
        raised_at=T0, data={"incident_id": "inc1"},
    )  # fmt: skip


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
async def test_two_replicas_share_alerts_sent_once_and_dismissed_everywhere(
    backend: str, tmp_path: Path
) -> None:
    with two_replicas(backend, tmp_path) as (db_a, db_b, url):
        sink_a, sink_b = Recorder(), Recorder()
        a = AlertBoard([sink_a], engine=db_a.engine, cache_s=0)
        b = AlertBoard([sink_b], engine=db_b.engine, cache_s=0)
        assert await a.raise_alert(alert())
        assert not await b.raise_alert(alert())  # stands already: not sent again
        assert sink_a.sent == ["inc1@t"] and sink_b.sent == []
        assert [x.title for x in b.active()] == ["Update overdue: Card payments"]
        assert b.active()[0].data == {"incident_id": "inc1"}
        restarted = Database.open(url)
        try:
            assert [x.key for x in AlertBoard(engine=restarted.engine).active()] == ["inc1@t"]
        finally:
            restarted.dispose()
        assert b.dismiss("inc1@t", by="admin:ana")
        assert a.active() == [] and b.active() == []
        assert not a.dismiss("inc1@t", by="admin:ana")  # nothing stands: nothing changes
        assert await b.raise_alert(alert())  # the same late update again: back, sent again
        assert sink_b.sent == ["inc1@t"] and [x.key for x in a.active()] == ["inc1@t"]


async def test_a_new_update_seen_by_one_replicas_guard_clears_the_alert_for_both(
    tmp_path: Path,
) -> None:
    with two_replicas("postgresql", tmp_path) as (db_a, db_b, _url):
        clock = FakeClock(T0)
        late = snapshot(
            summary(
                components=[component("Card payments", "major_outage")],
                incidents=[incident(status_update("identified", "Next update by 09:20 UTC.", T0))],
            )
        )
        boards, guards = [], []
        for db in (db_a, db_b):
            live = LiveStatus(clock=clock)
            live.accept(late)
            board = AlertBoard(engine=db.engine, cache_s=0)
            boards.append(board)
            guards.append(OverdueGuard(live, board, rhythm=Rhythm(), clock=clock))
        clock.advance(minutes=25)
        assert len(await guards[0].check()) == 1
        assert len(await guards[1].check()) == 1
        assert [len(b.active("overdue_update")) for b in boards] == [1, 1]
        news = snapshot(
            summary(
                components=[component("Card payments", "major_outage")],
                incidents=[
                    incident(
                        status_update("identified", "Fix deployed, next update in 1 hour.",
                                      T0 + timedelta(minutes=24)),
                        status_update("identified", "Next update by 09:20 UTC.", T0),
                    )
                ],
            )
        )  # fmt: skip
        guards[1]._live.accept(news)  # noqa: SLF001 - replica B polls first
        assert await guards[1].check() == []
        assert [b.active() for b in boards] == [[], []]


async def test_dismissing_in_the_console_clears_the_alert_for_every_replica(tmp_path: Path) -> None:
    with two_replicas("sqlite", tmp_path) as (db_a, db_b, _url):
        board_a = AlertBoard(engine=db_a.engine, cache_s=0)
        board_b = AlertBoard(engine=db_b.engine, cache_s=0)
        assert await board_b.raise_alert(alert())
        store = AppStore(db_a.engine)
        faq_store = FaqStore(db_a.engine)
        faq = FaqService.from_store(
            faq_store, encoder=load_encoder("hashing"), store=store,
            seed_paths=[write_seed(tmp_path)],
        )  # fmt: skip
        routes = admin_routes(
            password=PASSWORD, token=None, session_secret="s", faq_store=faq_store, faq=faq,
            app_store=store, alerts=board_a, review=lambda: [],
        )  # fmt: skip

        def run() -> None:
            with TestClient(Starlette(routes=routes), base_url="https://testserver") as client:
                csrf = re.compile(r'name="csrf" value="([^"]+)"')
                token = csrf.search(client.get("/admin/login").text)
                assert token
                client.post(
                    "/admin/login",
                    data={"csrf": token.group(1), "name": "Ana", "password": PASSWORD},
                )
                page = client.get("/admin").text
                assert "Update overdue: Card payments" in page
                found = csrf.search(page)
                assert found
                refused = client.post("/admin/alerts/dismiss", data={"key": "inc1@t"})
                assert refused.status_code == 403 and board_b.active()  # no CSRF: nothing
                unknown = client.post(
                    "/admin/alerts/dismiss", data={"key": "nope", "csrf": found.group(1)}
                )
                assert unknown.status_code == 400 and board_b.active()
                done = client.post(
                    "/admin/alerts/dismiss",
                    data={"key": "inc1@t", "csrf": found.group(1)},
                    follow_redirects=False,
                )
                assert done.status_code == 303
                assert "Update overdue" not in client.get("/admin").text

        await asyncio.to_thread(run)
        assert board_b.active() == []  # the other replica's board agrees
