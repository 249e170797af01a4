"""bot.faqdb.files: YAML and CSV FAQ files, round trips and refusals naming file and row."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.faqdb.files import dump_csv, dump_yaml, format_of, parse_csv, read_entries
from faq_index import FaqFileError, parse_faq_text
from tests.faq_store.builders import SEED_YAML

SEED = parse_faq_text(SEED_YAML, "seed.yml")
HEADER = "id,tags,question_en,question_es,paraphrases_en,paraphrases_es,answer_en,answer_es\n"


def test_yaml_round_trip() -> None:
    assert parse_faq_text(dump_yaml(SEED), "out.yml") == SEED


def test_csv_round_trip_with_multiline_paraphrases() -> None:
    text = dump_csv(SEED)
    assert text.startswith(HEADER)
    assert parse_csv(text, "out.csv") == SEED


def test_csv_round_trip_keeps_other_languages() -> None:
    yaml_text = SEED_YAML + (
        "  - id: french\n    question: {fr: 'Où est la banque ?'}\n"
        "    paraphrases: {fr: [banque]}\n    answer: {fr: Ici.}\n"
    )
    entries = parse_faq_text(yaml_text, "x.yml")
    text = dump_csv(entries)
    assert "question_fr" in text.splitlines()[0]
    assert parse_csv(text, "x.csv") == entries


def test_csv_accepts_bar_separated_paraphrases_and_tags_spreadsheet_style() -> None:
    text = HEADER + "card,cards|payments,Card down?,,declined | refused,,It is down.,\n"
    (entry,) = parse_csv(text, "sheet.csv")
    assert entry.tags == ("cards", "payments")
    assert entry.paraphrases == {"en": ("declined", "refused")}
    assert dict(entry.answer) == {"en": "It is down."}


def test_csv_with_a_byte_order_mark_from_excel(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeff".encode() + dump_csv(SEED).encode())
    assert read_entries(path) == SEED


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "sheet.csv: empty file"),
        ("question_en,answer_en\nq,a\n", "sheet.csv: the header row has no 'id' column"),
        ("id,colour\nx,red\n", "sheet.csv: unknown column 'colour'"),
        ("id,answer_en,answer_en\nx,a,b\n", "sheet.csv: the header row repeats a column"),
        (HEADER, "sheet.csv: no entries"),
        (HEADER + "a,,Q?,,,,,\n", "sheet.csv: row 2: entry a: missing 'answer'"),
        (HEADER + "Bad Id,,Q?,,,,A.,\n", "sheet.csv: row 2: entry Bad Id: id must be a slug"),
        (HEADER + "a,,Q?,,,,A.,\na,,Q2?,,,,B.,\n", "sheet.csv: entry a: duplicate id"),
        (HEADER + 'a,,"Q?,,,,A.,\n', "sheet.csv: invalid CSV"),
        (HEADER + "a,,Q?,,,,A.,,extra\n", "sheet.csv: row 2: more cells than columns"),
    ],
)
def test_broken_csv_is_refused_with_one_line(text: str, message: str) -> None:
    with pytest.raises(FaqFileError) as info:
        parse_csv(text, "sheet.csv")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_read_entries_picks_the_format_from_the_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(dump_csv(SEED), encoding="utf-8")
    (tmp_path / "a.yml").write_text(dump_yaml(SEED), encoding="utf-8")
    assert read_entries(tmp_path / "a.csv") == read_entries(tmp_path / "a.yml") == SEED
    assert format_of(tmp_path / "a.txt", "csv") == "csv"
    assert format_of(tmp_path / "a.CSV") == "csv"


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FaqFileError, match="cannot read file"):
        read_entries(tmp_path / "missing.yml")
