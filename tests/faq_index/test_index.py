"""The index: search against exact search, decisions, live edits, Spanish."""

from __future__ import annotations

import numpy as np
import pytest

from faq_index import Decision, FaqEntry, FaqIndex, FaqIndexError, HashingEncoder, Match
from faq_index.corpus import Corpus, Signals, text_rows
from tests.helpers.faq_builders import CountingEncoder, make_entry

QUERIES = [
    ("card declined", "en"),
    ("when is it fixed", "en"),
    ("password", "en"),
    ("me rechazan la tarjeta", "es"),
    ("cuándo vuelve", "es"),
    ("weather today", "en"),
]


def _synthetic(n: int) -> list[FaqEntry]:
    words = ["card", "login", "refund", "outage", "bill", "app", "email", "phone", "fee", "pin"]
    return [
        make_entry(
            f"e{i}",
            f"{words[i % 10]} {words[(i // 10) % 10]} question {i}",
            paraphrases=[f"{words[(i * 7) % 10]} issue {i}", f"help with {i}"],
        )
        for i in range(n)
    ]


def test_candidate_search_equals_exhaustive_search() -> None:
    entries = _synthetic(300)
    enc = HashingEncoder()
    rows = text_rows(entries)
    corpus = Corpus(rows, enc.encode([r.text for r in rows]), len(entries))
    weights = np.array([0.6, 0.2, 0.2], dtype=np.float32)
    for text in ["card login question 17", "refund issue 5", "help with 250", "zzz"]:
        qvec = enc.encode([text])[0]
        terms = corpus.lexical.query_terms(text, "en")
        full = corpus.exact(qvec, text, terms, "en")
        # brute force by hand: max weighted cosine / max lexical over each entry's texts
        sims = (corpus.vectors @ qvec) * corpus.weights
        lexical = corpus.lexical.score(text, "en") * corpus.weights
        chars = corpus.chars.score(text, "en") * corpus.weights
        for i in range(0, 300, 37):
            mask = corpus.text_entry == i
            assert full.lexical[i] == pytest.approx(float(np.max(lexical[mask])))
            assert full.chars[i] == pytest.approx(float(np.max(chars[mask])), abs=1e-6)
            assert full.dense[i] >= 0.5 * float(np.max(sims[mask])) - 1e-5
        cand = corpus.candidates(qvec, text, terms, "en", k=5)
        assert len(cand.entries) < 300  # a pool, not a full scan
        for got, want in [
            (cand.dense, full.dense),
            (cand.lexical, full.lexical),
            (cand.chars, full.chars),
            (cand.hits, full.hits),
        ]:
            np.testing.assert_allclose(got, want[cand.entries], rtol=1e-5, atol=1e-6)

        def fuse(s: Signals) -> np.ndarray:
            return weights[0] * s.dense + weights[1] * s.lexical + weights[2] * s.chars

        top_exact = np.sort(fuse(full))[::-1][:5]
        top_fast = np.sort(fuse(cand))[::-1][:5]
        np.testing.assert_allclose(top_exact, top_fast, atol=1e-6)


def test_search_returns_one_row_per_entry_best_first(outage_index: FaqIndex) -> None:
    for text, lang in QUERIES:
        matches = outage_index.search(text, lang, k=4)
        ids = [m.entry.id for m in matches]
        assert len(ids) == len(set(ids)) == 4
        scores = [m.score for m in matches]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)


def test_exact_paraphrase_is_answered(outage_index: FaqIndex) -> None:
    decision = outage_index.decide("can't pay with my card", "en")
    assert decision == Decision("answer", decision.matches)
    assert decision.best is not None and decision.best.entry.id == "card-payments-failing"


def test_spanish_matches_lexically_with_accents_folded(outage_index: FaqIndex) -> None:
    best = outage_index.search("cuando vuelve el servicio", "es", k=1)[0]
    assert best.entry.id == "when-fixed"
    best = outage_index.search("Quiero un REEMBOLSO", "es-MX", k=1)[0]
    assert best.entry.id == "refund-outage"
    assert best.entry.answer_for("es")[0] == "es"


def test_unrelated_and_empty_questions_are_declined(outage_index: FaqIndex) -> None:
    assert outage_index.decide("what is the capital of mongolia", "en").kind == "decline"
    assert outage_index.decide("   ", "en") == Decision("decline")
    assert outage_index.search("", "en") == []


def test_close_entries_are_offered_as_choices() -> None:
    entries = [
        make_entry(
            "reset-password",
            "How do I reset my password?",
            paraphrases=["forgot my password", "change password", "reset it please"],
        ),
        make_entry(
            "reset-pin",
            "How do I reset my PIN?",
            paraphrases=["forgot my pin", "change pin", "reset it please"],
        ),
        make_entry("weather", "What is the weather?", paraphrases=["is it raining"]),
    ]
    index = FaqIndex.build(entries, HashingEncoder())
    decision = index.decide("reset it please", "en")
    assert decision.kind == "choose"
    assert {m.entry.id for m in decision.matches} == {"reset-password", "reset-pin"}
    assert 2 <= len(decision.matches) <= 3


def test_with_changes_equals_full_rebuild_and_reembeds_only_changes() -> None:
    entries = _synthetic(40)
    enc = CountingEncoder()
    index = FaqIndex.build(entries, enc)
    before = enc.texts
    edited = make_entry("e3", "brand new question about roaming", paraphrases=["roaming abroad"])
    added = make_entry("new", "Is there an outage in Madrid?")
    updated = index.with_changes([edited, added], removed_ids=["e5", "unknown"])
    assert enc.texts - before == len(edited.texts()) + len(added.texts())
    assert updated.entry("e5") is None and index.entry("e5") is not None  # old one unchanged
    assert updated.entry("e3") == edited and updated.entry("new") == added
    expected = [e for e in entries if e.id != "e5"]
    expected[3] = edited
    expected.append(added)
    rebuilt = FaqIndex.build(expected, HashingEncoder())
    assert [e.id for e in updated.entries] == [e.id for e in rebuilt.entries]
    for text in ["roaming", "outage madrid", "card login question 17", "help with 9"]:
        a, b = updated.search(text, "en", k=5), rebuilt.search(text, "en", k=5)
        assert [m.entry.id for m in a] == [m.entry.id for m in b]
        assert [m.score for m in a] == pytest.approx([m.score for m in b], abs=1e-5)


def test_duplicate_ids_are_rejected() -> None:
    entry = make_entry("same", "q")
    with pytest.raises(FaqIndexError, match="duplicate"):
        FaqIndex.build([entry, entry], HashingEncoder())


def test_entry_lookup_and_empty_index(outage_index: FaqIndex) -> None:
    assert outage_index.entry("when-fixed") is not None
    assert outage_index.entry("nope") is None
    assert len(outage_index.entries) == 4
    empty = FaqIndex.build([], HashingEncoder())
    assert empty.decide("anything", "en") == Decision("decline")
    assert isinstance(Match(outage_index.entries[0], 0.5).score, float)


def test_repeated_questions_reuse_the_query_embedding() -> None:
    enc = CountingEncoder()
    index = FaqIndex.build(_synthetic(20), enc)
    before = enc.texts
    first = index.decide("card  login question 3", "en")
    assert index.decide(" card login   question 3 ", "en") == first
    index.search("card login question 3", "en")
    assert enc.texts - before == 1


def test_embed_reuses_the_vectors_of_questions_just_searched() -> None:
    enc = CountingEncoder()
    index = FaqIndex.build(_synthetic(20), enc)
    index.decide("card login question 3", "en")
    before = enc.texts
    texts = ["card  login question 3 ", "a new question", "a new question", "card login question 3"]
    vectors = index.embed(texts)
    assert enc.texts - before == 1  # only the unseen text, once
    assert vectors.shape == (4, enc.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[0], enc.encode(["card login question 3"])[0], atol=1e-6)
    np.testing.assert_allclose(vectors[1], vectors[2])
    np.testing.assert_allclose(vectors[0], vectors[3])
    assert index.embed([]).shape == (0, enc.dim)
    before = enc.texts
    index.decide("a new question", "en")  # embedded by the grouping, so searched for free
    assert enc.texts == before


def test_large_corpora_use_an_hnsw_graph_and_still_find_the_best(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import faq_index.corpus as corpus_module

    monkeypatch.setattr(corpus_module, "HNSW_ABOVE", 100)
    entries = _synthetic(300)
    enc = HashingEncoder()
    rows = text_rows(entries)
    corpus = Corpus(rows, enc.encode([r.text for r in rows]), len(entries))
    assert "HNSW" in type(corpus.nearest.index).__name__
    for text in ["card login question 17", "refund issue 5", "help with 250"]:
        qvec = enc.encode([text])[0]
        terms = corpus.lexical.query_terms(text, "en")
        full = corpus.exact(qvec, text, terms, "en")
        cand = corpus.candidates(qvec, text, terms, "en", k=5)
        best = int(np.argmax(0.6 * full.dense + 0.2 * full.lexical + 0.2 * full.chars))
        assert best in cand.entries.tolist()
        np.testing.assert_allclose(cand.dense, full.dense[cand.entries], rtol=1e-5, atol=1e-6)
