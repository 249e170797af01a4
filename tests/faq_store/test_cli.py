"""``faro faq import`` / ``faro faq export`` against the app database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli.main import cli
from bot.faqdb.files import dump_csv
from bot.faqdb.store import FaqStore
from faq_index import parse_faq_text
from tests.faq_store.builders import SEED_YAML

SEED = parse_faq_text(SEED_YAML, "seed.yml")
Run = Callable[..., Result]


@pytest.fixture
def run(db_url: str, tmp_path: Path) -> Run:
    """Run ``faro`` with the test database configured."""

    def invoke(*args: str) -> Result:
        env = {"FARO_DATABASE_URL": db_url, "FARO_PROJECT_DIR": str(tmp_path)}
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    path = tmp_path / "seed.yml"
    path.write_text(SEED_YAML, encoding="utf-8")
    return path


def test_dry_run_shows_the_plan_and_changes_nothing(
    run: Run, seed_file: Path, faq_store: FaqStore
) -> None:
    result = run("faq", "import", str(seed_file), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would be added: 3  (card-payments-failing, when-fixed, login-problems)" in result.output
    assert "would be changed: 0" in result.output
    assert "dry run: nothing was changed" in result.output
    assert faq_store.revision() == 0 and faq_store.snapshot()[0] == []


def test_import_then_export_round_trips_yaml_and_csv(
    run: Run, seed_file: Path, tmp_path: Path, faq_store: FaqStore
) -> None:
    assert run("faq", "import", str(seed_file)).exit_code == 0
    assert faq_store.snapshot()[0] == SEED
    assert {r.actor.split(":")[0] for r in faq_store.audit()} == {"cli"}

    exported = run("faq", "export")
    assert exported.exit_code == 0
    assert parse_faq_text(exported.output, "stdout") == SEED

    csv_path = tmp_path / "sheet.csv"
    assert run("faq", "export", "-o", str(csv_path)).exit_code == 0
    assert csv_path.read_text(encoding="utf-8") == dump_csv(SEED)
    again = run("faq", "import", str(csv_path), "--dry-run")
    assert "would be unchanged: 3" in again.output
    assert "would be added: 0" in again.output and "would be changed: 0" in again.output


def test_csv_edit_in_a_spreadsheet_is_imported(
    run: Run, seed_file: Path, tmp_path: Path, faq_store: FaqStore
) -> None:
    run("faq", "import", str(seed_file))
    sheet = tmp_path / "sheet.csv"
    run("faq", "export", "--format", "csv", "-o", str(sheet))
    text = sheet.read_text(encoding="utf-8").replace(
        "Logins fail for some users", "Logins work again for most users"
    )
    sheet.write_text(text, encoding="utf-8")
    result = run("faq", "import", str(sheet))
    assert "changed: 1  (login-problems)" in result.output
    stored = faq_store.get("login-problems")
    assert stored is not None and stored.entry.answer["en"].startswith("Logins work again")
    assert stored.version == 2


def test_retire_missing(run: Run, seed_file: Path, tmp_path: Path, faq_store: FaqStore) -> None:
    run("faq", "import", str(seed_file))
    fewer = tmp_path / "fewer.yml"
    fewer.write_text(SEED_YAML.split("  - id: login-problems")[0], encoding="utf-8")
    result = run("faq", "import", str(fewer), "--retire-missing")
    assert "retired: 1  (login-problems)" in result.output
    assert [e.id for e in faq_store.snapshot()[0]] == ["card-payments-failing", "when-fixed"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.yml", "version: 1\nfaqs: [\n", "broken.yml: invalid YAML"),
        (
            "dup.yml",
            SEED_YAML + "  - id: when-fixed\n    question: {en: Q}\n    answer: {en: A}\n",
            "dup.yml: entry when-fixed: duplicate id",
        ),
        (
            "empty.yml",
            "version: 1\nfaqs:\n  - id: x\n    question: {en: Q}\n    answer: {en: ''}\n",
            "empty.yml: entry x: 'answer.en' must be non-empty text",
        ),
        ("bad.csv", 'id,answer_en\n"x,a\n', "bad.csv: invalid CSV"),
    ],
)
def test_broken_files_are_refused_and_nothing_changes(
    run: Run,
    seed_file: Path,
    tmp_path: Path,
    faq_store: FaqStore,
    name: str,
    content: str,
    message: str,
) -> None:
    run("faq", "import", str(seed_file))
    before = (faq_store.revision(), faq_store.snapshot())
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = run("faq", "import", str(path))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0] and lines[0].endswith("(nothing was changed)")
    assert (faq_store.revision(), faq_store.snapshot()) == before


def test_export_to_an_unwritable_place_is_one_line(run: Run, tmp_path: Path) -> None:
    result = run("faq", "export", "-o", str(tmp_path / "no" / "such" / "dir.yml"))
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot write")
