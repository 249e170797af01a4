"""``faro faq check`` and ``faro faq ask`` (hashing encoder: no model files)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli.main import cli
from tests.helpers.faq_builders import OUTAGE_FAQ_YAML


def _faq(tmp_path: Path) -> Path:
    path = tmp_path / "faq.yml"
    path.write_text(OUTAGE_FAQ_YAML, encoding="utf-8")
    return path


def test_check_counts_languages(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["faq", "check", str(_faq(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "OK: 4 entries in 1 file(s)" in result.output
    assert "  en: 4" in result.output and "  es: 3" in result.output


def test_check_reports_one_line_on_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nfaqs:\n  - id: x\n    question: {en: Q}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["faq", "check", str(bad)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {bad}: entry x: missing 'answer'"
    assert "Traceback" not in result.output


def test_ask_prints_decision_matches_and_answer(tmp_path: Path) -> None:
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        result = runner.invoke(
            cli,
            [
                "faq",
                "ask",
                "me rechazan la tarjeta",
                "--lang",
                "es",
                "--faq",
                str(_faq(tmp_path)),
                "--model",
                "hashing",
                "-k",
                "2",
            ],
        )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "decision: answer" in lines
    assert any(
        line.strip().split()[1] == "card-payments-failing"
        for line in lines
        if line.startswith("  ")
    )
    assert "answer (es): Los pagos con tarjeta fallan" in result.output


def test_ask_with_bad_model_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "faq",
            "ask",
            "hi",
            "--faq",
            str(_faq(tmp_path)),
            "--model",
            "hashing:nope",
        ],
    )
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: invalid hashing model")
