"""`faro db upgrade` / `faro db revision`: migrate the app database without starting the app
(the Kubernetes migration Job runs it), on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db import VERSIONS_DIR
from tests.faq_store.builders import postgres_schema

ROOT = Path(__file__).resolve().parents[2]


def run_faro(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def newest_revision() -> str:
    """The head revision, read from the migration files (not from the code under test)."""
    revisions: dict[str, str | None] = {}
    for path in VERSIONS_DIR.glob("*.py"):
        ns: dict[str, object] = {}
        text = path.read_text()
        lines = [ln for ln in text.splitlines() if ln.startswith(("revision", "down_revision"))]
        exec("\n".join(lines), ns)  # noqa: S102 - our own migration files' two assignments
        revisions[str(ns["revision"])] = ns["down_revision"]  # type: ignore[assignment]
    parents = set(revisions.values())
    heads = [r for r in revisions if r not in parents]
    assert len(heads) == 1, heads
    return heads[0]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'faro.db'}"
    else:
        with postgres_schema() as url:
            yield url


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_migrates_a_fresh_database_then_finds_nothing_to_do(
    database_url: str, tmp_path: Path
) -> None:
    env = {"FARO_DATABASE_URL": database_url, "FARO_DATA_DIR": str(tmp_path / "data")}
    head = newest_revision()

    first = run_faro("db", "revision", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "none"

    up = run_faro("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip() == f"database schema migrated from nothing to {head}"
    assert {"alembic_version", "faq_entries"} <= tables(database_url)

    again = run_faro("db", "upgrade", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"database schema already at {head}"
    assert run_faro("db", "revision", env=env).stdout.strip() == head


def test_upgrade_of_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = {
        "FARO_DATABASE_URL": "postgresql+psycopg://faro:secret@127.0.0.1:1/faro",
        "FARO_DATA_DIR": str(tmp_path / "data"),
    }
    result = run_faro("db", "upgrade", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot read the schema revision: connection failed")
    assert "secret" not in result.stderr  # the password is never printed
    assert "Traceback" not in result.stderr


def test_help_names_the_subcommands() -> None:
    result = run_faro("db", "--help", env={})
    assert result.returncode == 0
    assert "upgrade" in result.stdout and "revision" in result.stdout
    top = run_faro("--help", env={})
    assert "db" in top.stdout
