"""Bad input: odd FAQs and odd questions get no error and an honest decision.

Shapes of FAQ (one entry, an entry with no paraphrases, 10,000 entries, a
language nobody wrote) run on the hashing encoder; what a customer types
(mixed languages, emoji only, 1,000 characters) runs on the shipped model,
where "honest" means: declined, or answered with the entry that fits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from faq_index import FaqEntry, FaqIndex, HashingEncoder, load_encoder, load_faq_files
from tests.helpers.faq_builders import make_entry

DATA = Path(__file__).parent / "data"


def _synthetic(n: int) -> list[FaqEntry]:
    words = ["card", "login", "refund", "outage", "bill", "app", "email", "phone", "fee", "pin"]
    return [
        make_entry(
            f"e{i}",
            f"{words[i % 10]} {words[(i // 10) % 10]} question {i}",
            paraphrases=[f"{words[(i * 7) % 10]} issue {i}"] if i % 3 else None,
        )
        for i in range(n)
    ]


def test_an_faq_with_one_entry() -> None:
    index = FaqIndex.build([make_entry("only", "Is the app down?")], HashingEncoder())
    assert index.calibration.head is None  # nothing to tell apart
    assert index.decide("Is the app down?", "en").best is not None
    assert index.decide("Is the app down?", "en").matches[0].entry.id == "only"
    assert index.decide("recipe for paella", "en").kind == "decline"


def test_an_entry_with_no_paraphrases_is_still_found() -> None:
    entries = [
        make_entry("card", "card declined", paraphrases=["card rejected", "cannot pay by card"]),
        make_entry("login", "cannot log in", paraphrases=["login fails", "password rejected"]),
        make_entry("refund", "when do I get my refund"),  # no paraphrases at all
    ]
    index = FaqIndex.build(entries, HashingEncoder())
    assert index.calibration.head is not None
    decision = index.decide("when do I get my refund", "en")
    assert decision.kind == "answer"
    assert decision.matches[0].entry.id == "refund"


def test_ten_thousand_entries() -> None:
    entries = _synthetic(10_000)
    index = FaqIndex.build(entries, HashingEncoder())
    assert len(index) == 10_000
    assert index.calibration.head is None  # over the training budget: calibration alone
    found = index.search("pin fee question 9989", "en", k=3)
    assert found[0].entry.id == "e9989"
    assert index.decide("zzzz qqqq", "en").kind == "decline"


@pytest.mark.parametrize("lang", ["", "fr", "pt-br", "EN"])
def test_a_language_nobody_wrote_in(lang: str) -> None:
    entries = [
        make_entry("card", "card declined", paraphrases=["card rejected"]),
        make_entry("login", "cannot log in", paraphrases=["login fails"]),
    ]
    index = FaqIndex.build(entries, HashingEncoder())
    decision = index.decide("card declined", lang)
    assert decision.kind in {"answer", "choose", "decline"}
    if decision.kind == "answer":
        assert decision.matches[0].entry.id == "card"
    assert index.decide("", lang).kind == "decline"


@pytest.fixture(scope="module")
def bank() -> FaqIndex:
    """The sample bank FAQ (en + es) on the shipped model."""
    encoder: Any = load_encoder(None)
    return FaqIndex.build(load_faq_files(DATA / "bank.yml"), encoder)


@pytest.mark.parametrize("text", ["😡😡😡", "🙏", "👍👍 🔥", "?!?!", "....", "ok"])
def test_emoji_and_noise_are_declined(bank: FaqIndex, text: str) -> None:
    for lang in ("en", "es"):
        assert bank.decide(text, lang).kind == "decline"


def test_mixed_language_questions(bank: FaqIndex) -> None:
    for text, lang in [
        ("mi card no funciona en el super, payment declined", "es"),
        ("my tarjeta was rejected, no puedo pagar", "en"),
    ]:
        decision = bank.decide(text, lang)
        assert decision.kind != "answer" or decision.matches[0].entry.id in {
            "card-payments-failing",
            "retry-payments",
            "card-blocked",
        }
        assert decision.kind != "decline" or not decision.matches


def test_thousand_character_questions(bank: FaqIndex) -> None:
    rambling = ("I was at the shop and then " * 40)[:1000]
    decision = bank.decide(rambling, "en")
    assert decision.kind != "answer"
    with_question = ("hello, long story. " * 60 + "why can't I pay with my card")[-1000:]
    assert len(with_question) == 1000
    decision = bank.decide(with_question, "en")
    assert decision.kind != "answer" or decision.matches[0].entry.id in {
        "card-payments-failing",
        "retry-payments",
    }
    gibberish = "x" * 1000
    assert bank.decide(gibberish, "en").kind == "decline"
