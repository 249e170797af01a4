"""``faro eval`` (hashing encoder: no model files)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli.main import cli
from tests.helpers.faq_builders import OUTAGE_FAQ_YAML

QUERIES = [
    {"text": "card declined", "lang": "en", "expected": "card-payments-failing"},
    {"text": "cuándo se arregla", "lang": "es", "expected": ["when-fixed"]},
    {"text": "what is the capital of peru", "lang": "en", "expected": None},
]


def _files(tmp_path: Path) -> tuple[Path, Path]:
    faq = tmp_path / "faq.yml"
    faq.write_text(OUTAGE_FAQ_YAML, encoding="utf-8")
    queries = tmp_path / "queries.jsonl"
    queries.write_text("\n".join(json.dumps(q) for q in QUERIES), encoding="utf-8")
    return faq, queries


def test_eval_json_has_the_contract_fields(tmp_path: Path) -> None:
    faq, queries = _files(tmp_path)
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        result = runner.invoke(
            cli,
            ["eval", "--faq", str(faq), "--queries", str(queries), "--json", "--model", "hashing"],
        )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    for key in (
        "n",
        "top1",
        "mrr",
        "recall_at_3",
        "coverage",
        "precision",
        "oos_answered",
        "p50_ms",
        "p99_ms",
    ):
        assert key in figures
    assert figures["n"] == 3
    assert figures["top1"] == 1.0
    assert figures["oos_answered"] == 0.0


def test_eval_table_by_default(tmp_path: Path) -> None:
    faq, queries = _files(tmp_path)
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            "--faq",
            str(faq),
            "--queries",
            str(queries),
            "--model",
            "hashing",
            "--cache-dir",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "top-1 accuracy" in result.stdout and "4 FAQ entries" in result.stdout


def test_eval_bad_query_file_is_one_line(tmp_path: Path) -> None:
    faq, queries = _files(tmp_path)
    queries.write_text('{"text": "x", "expected": 5}\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["eval", "--faq", str(faq), "--queries", str(queries), "--model", "hashing"]
    )
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"error: {queries}:1: 'expected' must be an id, a list of ids or null"
    )
