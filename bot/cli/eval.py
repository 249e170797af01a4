"""``faro eval``: score the answer center on a labelled query file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from bot.cli.errors import UserError
from bot.cli.faq import build_index, cache_option, load_entries, model_option

_ROWS = (
    ("n", "queries", "{:d}"),
    ("top1", "top-1 accuracy (answerable)", "{:.3f}"),
    ("mrr", "MRR (answerable)", "{:.3f}"),
    ("recall_at_3", "recall at 3 (answerable)", "{:.3f}"),
    ("coverage", "coverage: answerable answered outright", "{:.3f}"),
    ("precision", "precision of outright answers", "{:.3f}"),
    ("oos_answered", "out-of-scope answered (lower is better)", "{:.3f}"),
    ("overall_accuracy", "overall accuracy (right answers + declines)", "{:.3f}"),
    ("p50_ms", "latency p50 (ms per query)", "{:.1f}"),
    ("p99_ms", "latency p99 (ms per query)", "{:.1f}"),
)


@click.command("eval")
@click.option(
    "--faq",
    "faq_path",
    required=True,
    type=click.Path(path_type=Path),
    help="FAQ file or folder (schema version 1).",
)
@click.option(
    "--queries",
    "queries_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Labelled queries, JSON lines: text, lang, expected (id, [ids] or null).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@model_option
@cache_option
def eval_cmd(
    faq_path: Path, queries_path: Path, as_json: bool, model: str | None, cache_dir: Path
) -> None:
    """Score the answer center on a labelled query file."""
    from faq_index import QueryFileError, evaluate, load_queries

    entries = load_entries([faq_path])
    try:
        queries = load_queries(queries_path)
    except QueryFileError as exc:
        raise UserError(str(exc)) from exc
    index = build_index(entries, model, cache_dir)
    with click.progressbar(
        length=len(queries), label="Evaluating", file=sys.stderr, show_pos=True
    ) as bar:
        figures: dict[str, Any] = evaluate(index, queries, progress=bar.update)
    figures["model"] = index.encoder.name
    figures["entries"] = len(index)
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(f"{len(index)} FAQ entries, model {index.encoder.name}")
    for key, label, fmt in _ROWS:
        click.echo(f"  {label:<42} {fmt.format(figures[key])}")
