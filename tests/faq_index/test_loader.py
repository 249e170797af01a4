"""FAQ file loading and validation."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from faq_index import FaqFileError, FaqIndexError, load_faq_files, parse_faq_text
from tests.helpers.faq_builders import OUTAGE_FAQ_YAML

GOOD_ENTRY = """
  - id: ok
    question: {en: Q}
    answer: {en: A}
"""


def _doc(body: str, version: str = "1") -> str:
    return f"version: {version}\nfaqs:\n{body}"


def test_parses_the_contract_example() -> None:
    entries = parse_faq_text(OUTAGE_FAQ_YAML, "outage.yml")
    card = entries[0]
    assert card.id == "card-payments-failing"
    assert card.question["es"] == "¿Por qué fallan mis pagos con tarjeta?"
    assert card.paraphrases["en"][0] == "card declined"
    assert card.tags == ("payments", "cards")
    assert card.source == "outage.yml"


def test_extra_fields_and_unknown_languages_are_accepted() -> None:
    text = _doc(
        """
  - id: extra
    owner: support
    question: {en: Q, fr: Q fr, pt-br: Q br}
    answer: {fr: R}
""".replace("answer: {fr: R}", "answer: {fr: R, en: A}")
    )
    (entry,) = parse_faq_text(text, "x.yml")
    assert set(entry.question) == {"en", "fr", "pt-br"}


def test_answer_for_falls_back_to_english_then_any() -> None:
    (entry,) = parse_faq_text(
        _doc("""
  - id: de-only
    question: {de: Frage}
    answer: {de: Antwort}
"""),
        "x.yml",
    )
    assert entry.answer_for("es") == ("de", "Antwort")
    entries = parse_faq_text(OUTAGE_FAQ_YAML, "outage.yml")
    login = next(e for e in entries if e.id == "login-problems")
    assert login.answer_for("es")[0] == "en"
    assert entries[0].answer_for("es")[0] == "es"


@pytest.mark.parametrize(
    ("text", "entry", "reason"),
    [
        ("version: 1\nfaqs: [\n", None, "invalid YAML"),
        ("- just a list", None, "expected a mapping"),
        (_doc(GOOD_ENTRY, version="2"), None, "unsupported version 2"),
        ("version: 1\nfaqs: {}\n", None, "'faqs' must be a list"),
        (_doc("  - just text\n"), 1, "must be a mapping"),
        (_doc("  - question: {en: Q}\n    answer: {en: A}\n"), 1, "missing 'id'"),
        (
            _doc("  - id: Not A Slug\n    question: {en: Q}\n    answer: {en: A}\n"),
            "Not A Slug",
            "slug",
        ),
        (_doc(GOOD_ENTRY + GOOD_ENTRY), "ok", "duplicate id"),
        (_doc("  - id: x\n    answer: {en: A}\n"), "x", "missing 'question'"),
        (
            _doc("  - id: x\n    question: Q\n    answer: {en: A}\n"),
            "x",
            "'question' must map a language",
        ),
        (
            _doc("  - id: x\n    question: {en: ''}\n    answer: {en: A}\n"),
            "x",
            "'question.en' must be non-empty",
        ),
        (
            _doc("  - id: x\n    question: {english: Q}\n    answer: {en: A}\n"),
            "x",
            "invalid language code",
        ),
        (
            _doc("  - id: x\n    question: {en: Q}\n    answer: {es: R}\n"),
            "x",
            "at least one same language",
        ),
        (
            _doc("  - id: x\n    question: {en: Q}\n    answer: {en: A}\n    paraphrases: [a]\n"),
            "x",
            "'paraphrases' must map",
        ),
        (
            _doc(
                "  - id: x\n    question: {en: Q}\n    answer: {en: A}\n    paraphrases: {en: a}\n"
            ),
            "x",
            "'paraphrases.en' must be a list",
        ),
        (
            _doc(
                "  - id: x\n    question: {en: Q}\n    answer: {en: A}\n"
                "    paraphrases: {en: [a, 3]}\n"
            ),
            "x",
            "only non-empty texts",
        ),
        (
            _doc("  - id: x\n    question: {en: Q}\n    answer: {en: A}\n    tags: cards\n"),
            "x",
            "'tags' must be a list",
        ),
    ],
)
def test_invalid_input_names_file_entry_and_reason(
    text: str, entry: str | int | None, reason: str
) -> None:
    with pytest.raises(FaqFileError) as caught:
        parse_faq_text(text, "faq.yml")
    err = caught.value
    assert isinstance(err, FaqIndexError)
    assert err.file == "faq.yml"
    assert err.entry == entry
    assert reason in err.reason
    line = str(err)
    assert "\n" not in line and line.startswith("faq.yml: ")
    if entry is not None:
        assert f"entry {entry if isinstance(entry, str) else f'#{entry}'}: " in line


def test_error_survives_pickling() -> None:
    err = FaqFileError("a.yml", "x", "bad")
    again = pickle.loads(pickle.dumps(err))
    assert (again.file, again.entry, again.reason) == ("a.yml", "x", "bad")


def test_loads_folders_and_rejects_duplicates_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(_doc(GOOD_ENTRY), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(OUTAGE_FAQ_YAML, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    assert len(load_faq_files([tmp_path])) == 5
    (tmp_path / "c.yml").write_text(_doc(GOOD_ENTRY), encoding="utf-8")
    with pytest.raises(FaqFileError) as caught:
        load_faq_files(tmp_path)
    assert caught.value.entry == "ok"
    assert caught.value.file.endswith("c.yml")
    assert "already defined in" in caught.value.reason


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(FaqFileError, match="no such file"):
        load_faq_files([tmp_path / "nope.yml"])
    with pytest.raises(FaqFileError, match="no \\*.yml"):
        load_faq_files([tmp_path])
