"""Templates in the database: seeded from the files, checked, versioned, live, exported."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot.cli.main import cli
from bot.console.templates_db import TemplateDb, TemplateRefused, TemplateReloader
from bot.db import Database
from bot.templates import TemplateStore
from tests.console.conftest import TEMPLATES

KEY = "status.incident.identified"


@pytest.fixture
def engine(db_url: str) -> sa.Engine:
    return Database.open(db_url).engine


def test_seeded_once_then_the_database_is_served(engine: sa.Engine) -> None:
    db = TemplateDb.from_paths(engine, [TEMPLATES])
    files = TemplateStore.from_paths([TEMPLATES])
    assert db.seed() == len(files.keys())
    assert db.seed() == 0  # a second start seeds nothing
    served = TemplateStore.from_paths([TEMPLATES])
    db.save(KEY, {"en": "As of {as_of}, we know why: {name}. Fix coming."}, actor="admin:Ana")
    assert TemplateReloader(db, served).refresh()
    assert served.render(KEY, "en", as_of="09:00 UTC", name="Cards") == (
        "As of 09:00 UTC, we know why: Cards. Fix coming."
    )
    assert served.texts(KEY)["es"] == files.texts(KEY)["es"]  # the other language kept


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("As of {as_of}, {nmae} is broken", "{nmae}"),
        ("As of {as_of, it is broken", "braces"),
        ("As of {as_of!r}", "{as_of!r}"),
        ("Value {0}", "{0}"),
        ("   ", "empty"),
    ],
)
def test_a_broken_or_unknown_placeholder_is_refused_naming_it(
    engine: sa.Engine, text: str, named: str
) -> None:
    db = TemplateDb.from_paths(engine, [TEMPLATES])
    db.seed()
    before = db.revision()
    with pytest.raises(TemplateRefused) as refused:
        db.save(KEY, {"en": text}, actor="admin:Ana")
    assert named in str(refused.value) and str(refused.value).startswith("en:")
    assert db.revision() == before


def test_rollback_to_any_earlier_version(engine: sa.Engine) -> None:
    db = TemplateDb.from_paths(engine, [TEMPLATES])
    db.seed()
    seeded = db.history(KEY)[0]
    one = db.save(KEY, {"en": "One: {name}"}, actor="admin:Ana")
    db.save(KEY, {"en": "Two: {name}"}, actor="admin:Bo", expected=one)
    with pytest.raises(TemplateRefused, match="meanwhile"):
        db.save(KEY, {"en": "Stale: {name}"}, actor="admin:Cy", expected=one)
    db.rollback(KEY, seeded.id, actor="admin:Ana")
    history = db.history(KEY)
    assert [v.action for v in history] == [f"rollback:{seeded.id}", "edit", "edit", "seed"]
    assert [v.actor for v in history][:3] == ["admin:Ana", "admin:Bo", "admin:Ana"]
    assert history[0].texts == seeded.texts
    db.rollback(KEY, one, actor="admin:Ana")
    assert db.current()[0][KEY]["en"] == "One: {name}"
    with pytest.raises(TemplateRefused):
        db.rollback("status.all_operational", one, actor="admin:Ana")  # another key's version


def test_export_writes_files_the_app_can_load(engine: sa.Engine, tmp_path: Path) -> None:
    db = TemplateDb.from_paths(engine, [TEMPLATES])
    db.seed()
    db.save(KEY, {"es": "A las {as_of}, sabemos la causa: {name}."}, actor="admin:Ana")
    written = db.export(tmp_path / "out")
    assert {p.name for p in written} == {p.name for p in TEMPLATES.glob("*.yml")}
    loaded = TemplateStore.from_paths([tmp_path / "out"])
    assert loaded.texts(KEY)["es"] == "A las {as_of}, sabemos la causa: {name}."
    assert loaded.keys() == TemplateStore.from_paths([TEMPLATES]).keys()


async def test_an_edit_is_live_on_another_replica_within_seconds(engine: sa.Engine) -> None:
    saver = TemplateDb.from_paths(engine, [TEMPLATES])
    saver.seed()
    other_db = TemplateDb.from_paths(engine, [TEMPLATES])  # another process's view
    served = TemplateStore.from_paths([TEMPLATES])
    reloader = TemplateReloader(other_db, served, interval_s=1.0)
    reloader.refresh()
    await reloader.start()
    try:
        saver.save(KEY, {"en": "Live edit: {name}"}, actor="admin:Ana")
        start = time.monotonic()
        while served.texts(KEY)["en"] != "Live edit: {name}":
            assert time.monotonic() - start < 5.0, "not live within 5 s"
            await asyncio.sleep(0.05)
    finally:
        await reloader.stop()
    assert served.render(KEY, "en", name="Cards") == "Live edit: Cards"


def test_faro_templates_export(engine: sa.Engine, db_url: str, tmp_path: Path) -> None:
    db = TemplateDb.from_paths(engine, [TEMPLATES])
    db.seed()
    db.save(KEY, {"en": "Exported: {name}"}, actor="admin:Ana")
    env = {"FARO_DATABASE_URL": db_url, "FARO_TEMPLATES": str(TEMPLATES)}
    result = CliRunner().invoke(cli, ["templates", "export", str(tmp_path / "x")], env=env)
    assert result.exit_code == 0, result.output
    assert "status.yml" in result.output
    assert TemplateStore.from_paths([tmp_path / "x"]).texts(KEY)["en"] == "Exported: {name}"
