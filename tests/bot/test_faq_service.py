"""bot.faq_service over the FAQ store: seeding, incremental refresh, hot reload, replicas."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db import Database
from bot.faq_service import FaqReloader, FaqService
from bot.faqdb.codec import entry_to_dict, validate_edit
from bot.faqdb.store import FaqStore
from bot.store import AppStore
from faq_index import Encoder, FaqIndex, load_encoder
from faq_index.calibration import Calibration
from faq_index.incremental import with_changes_fast
from tests.faq_store.builders import mortgage, postgres_schema, sqlite_url, write_seed

OLD = "We are working on it; see the status page for the latest estimate."
NEW = "Service is back since 14:05; card payments work again."
QUESTION = "when will it be fixed"
LIVE_WINDOW_S = 5.0


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return load_encoder("hashing")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema() as url:
            yield url


@dataclass
class Replicas:
    """App replicas on one database; each has its own engine, store and index."""

    url: str
    seed: Path
    encoder: Encoder
    stores: list[AppStore] = field(default_factory=list)

    def start(self) -> tuple[FaqService, FaqStore]:
        app_store = AppStore(Database.open(self.url).engine)
        self.stores.append(app_store)
        faq_store = FaqStore(app_store.engine)
        service = FaqService.from_store(
            faq_store, encoder=self.encoder, store=app_store, seed_paths=[self.seed]
        )
        return service, faq_store


@pytest.fixture
def replicas(db_url: str, tmp_path: Path, encoder: Encoder) -> Iterator[Replicas]:
    r = Replicas(db_url, write_seed(tmp_path), encoder)
    yield r
    for store in r.stores:
        store.dispose()


def _edit_answer(store: FaqStore, answer: str) -> None:
    stored = store.get("when-fixed")
    assert stored is not None
    raw = entry_to_dict(stored.entry)
    raw["answer"] = {**raw["answer"], "en": answer}
    store.update(validate_edit(raw), actor="admin:test", expected_version=stored.version)


def _answer(service: FaqService | FaqIndex, text: str = QUESTION, lang: str = "en") -> str | None:
    decision = service.decide(text, lang)
    if decision.kind != "answer" or decision.best is None:
        return None
    return decision.best.entry.answer_for(lang)[1]


def test_first_replica_seeds_the_database_and_later_ones_do_not(replicas: Replicas) -> None:
    first, store = replicas.start()
    assert [e.id for e in first.index.entries] == [
        "card-payments-failing",
        "when-fixed",
        "login-problems",
    ]
    assert first.revision == 1
    store.retire("login-problems", actor="a")
    second, _ = replicas.start()  # does not seed again: the database is the source
    assert [e.id for e in second.index.entries] == ["card-payments-failing", "when-fixed"]
    assert second.revision == 2


def test_refresh_applies_adds_edits_and_retirements(replicas: Replicas) -> None:
    service, store = replicas.start()
    assert service.refresh() is False  # nothing changed: one cheap query, no rebuild
    before = service.index
    store.add(mortgage(), actor="a")
    _edit_answer(store, NEW)
    store.retire("login-problems", actor="a")
    assert service.refresh() is True
    assert service.index is not before
    assert service.revision == 4
    assert _answer(service, "Can I apply for a mortgage now?") == mortgage().answer["en"]
    assert _answer(service) == NEW
    assert service.index.entry("login-problems") is None
    assert _answer(before) == OLD  # the old index object is untouched


def test_refresh_applies_a_retired_then_restored_entry(replicas: Replicas) -> None:
    service, store = replicas.start()
    store.retire("when-fixed", actor="a")
    service.refresh()
    assert _answer(service) is None
    store.restore("when-fixed", actor="a")
    service.refresh()
    assert _answer(service) == OLD


async def test_two_replicas_both_pick_up_a_change(replicas: Replicas) -> None:
    a, store_a = replicas.start()
    b, _ = replicas.start()
    reloaders = [FaqReloader(s, interval_s=0.2) for s in (a, b)]
    for r in reloaders:
        await r.start()
    try:
        saved = time.monotonic()
        await asyncio.to_thread(store_a.add, mortgage(), actor="admin:test")
        await asyncio.to_thread(_edit_answer, store_a, NEW)
        for service in (a, b):
            while _answer(service) != NEW or service.index.entry("mortgage-applications") is None:
                assert time.monotonic() - saved < LIVE_WINDOW_S, "change not served in time"
                await asyncio.sleep(0.05)
    finally:
        for r in reloaders:
            await r.stop()
    assert a.revision == b.revision == 3


@dataclass
class Observation:
    """One query: when it started and ended, on which replica, what was answered."""

    started: float
    ended: float
    replica: str
    answer: str | None
    index_answer: str


async def test_hot_reload_under_concurrent_queries(replicas: Replicas) -> None:
    """Saving on replica A while both replicas answer from several threads."""
    a, store = replicas.start()
    b, _ = replicas.start()
    reloader = FaqReloader(b, interval_s=1.0)  # production default
    await reloader.start()
    stop = threading.Event()
    seen: list[Observation] = []
    errors: list[BaseException] = []

    def ask(name: str, service: FaqService) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                answer = _answer(service)
                index = service.index
                current = index.entry("when-fixed")
                assert current is not None and len(index.entries) == 3
                seen.append(
                    Observation(started, time.monotonic(), name, answer, current.answer["en"])
                )
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    threads = [
        threading.Thread(target=ask, args=(name, svc), daemon=True)
        for name, svc in (("a", a), ("a", a), ("b", b), ("b", b))
    ]
    for t in threads:
        t.start()
    try:
        await asyncio.sleep(0.3)
        saved = time.monotonic()
        await asyncio.to_thread(_edit_answer, store, NEW)
        await asyncio.to_thread(a.refresh)  # what the admin does after saving
        applied_a = time.monotonic()
        while _answer(b) != NEW:
            assert time.monotonic() - saved < LIVE_WINDOW_S, "replica b did not pick it up"
            await asyncio.sleep(0.02)
        served_b = time.monotonic()
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
        await reloader.stop()

    assert errors == []
    assert {o.answer for o in seen} <= {OLD, NEW}
    assert {o.index_answer for o in seen} == {OLD, NEW}
    assert any(o.replica == "a" and o.ended < saved and o.answer == OLD for o in seen)
    for o in seen:  # after the swap, never the old answer again
        if o.replica == "a" and o.started > applied_a:
            assert o.answer == NEW
        if o.replica == "b" and o.started > served_b:
            assert o.answer == NEW
    assert served_b - saved < LIVE_WINDOW_S
    assert len([o for o in seen if o.replica == "b"]) > 10


async def test_reloader_keeps_serving_when_the_database_fails(
    replicas: Replicas, caplog: pytest.LogCaptureFixture
) -> None:
    service, store = replicas.start()
    engine = replicas.stores[0].engine
    reloader = FaqReloader(service, interval_s=0.05)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE faq_revision RENAME TO faq_revision_gone"))
    await reloader.start()
    try:
        await asyncio.sleep(0.3)
        assert "FAQ reload failed, serving the previous index" in caplog.text
        assert _answer(service) == OLD
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE faq_revision_gone RENAME TO faq_revision"))
        await asyncio.to_thread(_edit_answer, store, NEW)
        deadline = time.monotonic() + LIVE_WINDOW_S
        while _answer(service) != NEW:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    finally:
        await reloader.stop()


def test_fast_edit_then_recalibrated_index_matches_a_full_build(
    replicas: Replicas, encoder: Encoder
) -> None:
    service, store = replicas.start()
    quick_index = with_changes_fast(service.index, [mortgage()], ["login-problems"])
    assert [e.id for e in quick_index.entries] == [
        "card-payments-failing",
        "when-fixed",
        "mortgage-applications",
    ]
    assert quick_index.calibration is service.index.calibration  # reused, not relearned
    store.add(mortgage(), actor="a")
    store.retire("login-problems", actor="a")
    assert service.recalibrate() is False  # nothing to relearn yet
    service.refresh()
    assert service.index.calibration is quick_index.calibration  # served before relearning
    assert service.recalibrate() is True
    full = FaqIndex.build(store.snapshot()[0], encoder)
    for question in ("can I apply for a mortgage", "card declined", "¿cuándo vuelve?", "hola"):
        served = [(m.entry.id, round(m.score, 6)) for m in service.index.search(question, "en")]
        assert served == [(m.entry.id, round(m.score, 6)) for m in full.search(question, "en")]
        assert quick_index.search(question, "en", 1)[0].entry.id == served[0][0]


async def test_reloader_recalibrates_once_edits_settle(replicas: Replicas) -> None:
    service, store = replicas.start()
    reloader = FaqReloader(service, interval_s=0.1)
    await reloader.start()
    try:
        await asyncio.to_thread(store.add, mortgage(), actor="a")
        deadline = time.monotonic() + LIVE_WINDOW_S
        while service.index.entry("mortgage-applications") is None:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        served = service.index
        while service.index is served:  # the recalibrated index replaces it
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        assert service.index.calibration is not served.calibration
        assert service.index.entry("mortgage-applications") == mortgage()
        assert service.recalibrate() is False
    finally:
        await reloader.stop()


def test_few_edits_keep_the_calibration_until_they_add_up_or_age(
    replicas: Replicas, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.faq_service as faq_service
    import faq_index.incremental as incremental

    monkeypatch.setattr(incremental, "RECALIBRATE_SHARE", 0.5)  # 1 of 3 is too few
    service, store = replicas.start()
    _edit_answer(store, NEW)
    service.refresh()
    calibration = service.index.calibration
    assert service.recalibrate() is False
    assert service.index.calibration is calibration and _answer(service) == NEW
    monkeypatch.setattr(faq_service, "RECALIBRATE_AFTER_S", 0.0)  # pending long enough
    assert service.recalibrate() is True
    assert service.index.calibration is not calibration and _answer(service) == NEW
    assert service.recalibrate() is False  # nothing pending any more
    store.add(mortgage(), actor="a")
    service.refresh()
    monkeypatch.setattr(faq_service, "RECALIBRATE_AFTER_S", 300.0)
    assert service.recalibrate() is False
    assert service.recalibrate(force=True) is True


def test_an_edit_during_recalibration_is_kept(
    replicas: Replicas, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.faq_service as faq_service

    service, store = replicas.start()
    real = faq_service.relearned_calibration  # type: ignore[attr-defined]

    def slow(index: FaqIndex) -> Calibration:
        store.add(mortgage(), actor="a")  # saved and served while relearning
        service.refresh()
        return real(index)

    monkeypatch.setattr(faq_service, "relearned_calibration", slow)
    _edit_answer(store, NEW)
    service.refresh()
    assert service.recalibrate() is True
    assert service.index.entry("mortgage-applications") == mortgage()  # not lost
    assert _answer(service) == NEW
    monkeypatch.setattr(faq_service, "relearned_calibration", real)
    assert service.recalibrate() is True  # the edit made meanwhile is still pending
    assert service.recalibrate() is False
