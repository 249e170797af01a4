"""``faro faq``: check FAQ files and ask the index a question."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.errors import UserError

if TYPE_CHECKING:
    from faq_index import FaqEntry, FaqIndex

DEFAULT_FAQ_PATH = Path("data/faq")
DEFAULT_CACHE_DIR = Path(".faro/cache/faq")

MODEL_HELP = (
    "Embedding model: a sentence-transformers name or path; 'hashing' is a fast, "
    "model-free encoder for tests and development. Default: $FARO_EMBEDDING_MODEL, "
    "else the packaged all-MiniLM-L6-v2."
)

model_option = click.option(
    "--model", "model", metavar="NAME_OR_PATH", default=None, help=MODEL_HELP
)
cache_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CACHE_DIR,
    show_default=True,
    help="Where embeddings are cached between runs.",
)


def load_entries(paths: Sequence[Path]) -> list[FaqEntry]:
    """Load and validate FAQ files, turning validation errors into one-line user errors."""
    from faq_index import FaqFileError, load_faq_files

    try:
        return load_faq_files(list(paths) or [DEFAULT_FAQ_PATH])
    except FaqFileError as exc:
        raise UserError(str(exc)) from exc


def build_index(entries: list[FaqEntry], model: str | None, cache_dir: Path | None) -> FaqIndex:
    """Load the encoder (``model``, else the configured one) and build the index, with progress."""
    from dataclasses import replace

    from bot.cli.serving import load_settings
    from bot.wiring import build_encoder
    from faq_index import EncoderError, FaqIndex, FaqIndexError

    settings = load_settings(secrets=False)
    if model:
        settings = replace(settings, faq=replace(settings.faq, embedding_model=model))
    try:
        encoder = build_encoder(settings)
        total = sum(len(e.texts()) for e in entries)
        with click.progressbar(
            length=total, label="Embedding FAQ texts", file=sys.stderr, show_pos=True
        ) as bar:
            return FaqIndex.build(entries, encoder, cache_dir=cache_dir, progress=bar.update)
    except EncoderError as exc:
        raise UserError(str(exc)) from exc
    except FaqIndexError as exc:
        raise UserError(str(exc)) from exc


@click.group()
def faq() -> None:
    """Check, import, export and query the FAQ."""


@faq.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Validate FAQ files (default data/faq) and count entries per language."""
    entries = load_entries(paths)
    files = {e.source for e in entries}
    click.echo(f"OK: {len(entries)} entries in {len(files)} file(s)")
    per_lang: Counter[str] = Counter(lang for e in entries for lang in e.languages)
    for lang, count in sorted(per_lang.items()):
        click.echo(f"  {lang}: {count}")


@faq.command("ask")
@click.argument("question")
@click.option("--lang", default="en", show_default=True, help="Language of the question.")
@click.option(
    "--faq",
    "faq_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="FAQ file or folder (repeatable). Default: data/faq.",
)
@model_option
@cache_option
@click.option(
    "-k",
    "k",
    type=click.IntRange(1, 50),
    default=5,
    show_default=True,
    help="How many matches to show.",
)
def ask(
    question: str,
    lang: str,
    faq_paths: tuple[Path, ...],
    model: str | None,
    cache_dir: Path,
    k: int,
) -> None:
    """Ask the FAQ index a question: show the decision and the top matches."""
    if not question.strip():
        raise UserError("the question is empty")
    entries = load_entries(faq_paths)
    index = build_index(entries, model, cache_dir)
    decision = index.decide(question, lang)
    click.echo(f"decision: {decision.kind}")
    if decision.kind == "choose":
        click.echo("choices: " + ", ".join(m.entry.id for m in decision.matches))
    click.echo("matches:")
    for match in index.search(question, lang, k=k):
        _, title = match.entry.question_for(lang)
        click.echo(f"  {match.score:.3f}  {match.entry.id}  {title}")
    if decision.kind == "answer":
        used, text = decision.matches[0].entry.answer_for(lang)
        click.echo(f"answer ({used}): {text}")


def _register_import_export() -> None:
    from bot.cli.faq_io import export_cmd, import_cmd

    faq.add_command(import_cmd)
    faq.add_command(export_cmd)


_register_import_export()
