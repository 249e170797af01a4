"""Live edits: the incrementally derived index equals a full rebuild of the same entries;
the vectorised BM25 and n-gram matrices equal a straightforward computation."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from faq_index import FaqEntry, FaqIndex, HashingEncoder, parse_faq_text
from faq_index.chargrams import CharIndex, char_grams
from faq_index.corpus import Corpus
from faq_index.incremental import (
    RECALIBRATE_SHARE,
    needs_recalibration,
    relearned_calibration,
    with_calibration,
    with_changes_fast,
)
from faq_index.lexical import INFORMATIVE_IDF, K1, B, LexicalIndex
from faq_index.text import analyzer
from tests.helpers.faq_builders import OUTAGE_FAQ_YAML, CountingEncoder, make_entry

TEXTS = [
    "my card payment failed at the shop",
    "card declined again and again",
    "cannot log in to the app",
    "no puedo pagar con la tarjeta",
    "la tarjeta fue rechazada otra vez",
    "when will the service be back",
    "",
]
LANGS = ["en", "en", "en", "es", "es", "en", "en"]
QUERIES = [
    ("card declined", "en"),
    ("why was my card payment declined at the shop", "en"),
    ("me rechazan la tarjta", "es"),
    ("zebra", "en"),
    ("service back", "en"),
]


def _reference_bm25(terms: list[str], lang: str, exclude: int | None) -> tuple[list[float], ...]:
    """BM25 share and informative hits per text, computed term by term."""
    tokens = [analyzer(lg)(t) for t, lg in zip(TEXTS, LANGS, strict=True)]
    docs = [i for i, lg in enumerate(LANGS) if lg == lang]
    n = len(docs)
    avgdl = max(1.0, sum(len(tokens[i]) for i in docs) / n)
    df = Counter(t for i in docs for t in set(tokens[i]))

    def idf(d: int) -> float:
        return math.log(1.0 + (n - d + 0.5) / (d + 0.5))

    scores, hits = [0.0] * len(TEXTS), [0.0] * len(TEXTS)
    total = 0.0
    for term in terms:
        holders = [i for i in docs if term in tokens[i]]
        if not holders or holders == [exclude]:
            total += idf(0)
            continue
        total += idf(df[term])
        for i in holders:
            tf = tokens[i].count(term)
            norm = K1 * (1 - B + B * len(tokens[i]) / avgdl)
            scores[i] += idf(df[term]) * tf / (tf + norm)
            hits[i] += idf(df[term]) >= INFORMATIVE_IDF
    if exclude is not None:
        scores[exclude] = hits[exclude] = 0.0
    return [s / total if total else 0.0 for s in scores], hits


def _reference_chars(text: str, lang: str) -> list[float]:
    """Cosine of sublinear-TF x IDF n-gram vectors, with plain dictionaries."""
    docs = [i for i, lg in enumerate(LANGS) if lg == lang]
    n = len(docs)
    grams = {i: char_grams(TEXTS[i]) for i in docs}
    df = Counter(g for i in docs for g in grams[i])

    def vec(counts: Counter[str]) -> dict[str, float]:
        unknown = math.log(1 + n) + 1
        w = {
            g: (1 + math.log(c)) * (math.log((1 + n) / (1 + df[g])) + 1 if g in df else unknown)
            for g, c in counts.items()
        }
        norm = math.sqrt(sum(v * v for v in w.values())) or 1.0
        return {g: v / norm for g, v in w.items()}

    q = vec(char_grams(text))
    out = [0.0] * len(TEXTS)
    for i in docs:
        d = vec(grams[i])
        out[i] = sum(v * d.get(g, 0.0) for g, v in q.items() if g in df)
    return out


@pytest.mark.parametrize("exclude", [None, 0, 3])
def test_bm25_matrices_equal_a_term_by_term_computation(exclude: int | None) -> None:
    index = LexicalIndex.from_texts(TEXTS, LANGS)
    for text, lang in QUERIES:
        terms = index.query_terms(text, lang)
        scores, hits = index.match(terms, lang, exclude=exclude)
        want_scores, want_hits = _reference_bm25(terms, lang, exclude)
        np.testing.assert_allclose(scores, want_scores, rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(hits, want_hits)


def test_ngram_matrices_equal_a_dictionary_computation() -> None:
    index = CharIndex.from_texts(TEXTS, LANGS)
    for text, lang in QUERIES:
        np.testing.assert_allclose(
            index.score(text, lang), _reference_chars(text, lang), rtol=1e-5, atol=1e-6
        )


def _entries() -> list[FaqEntry]:
    outage = parse_faq_text(OUTAGE_FAQ_YAML, "outage.yml")
    words = ["card", "login", "refund", "outage", "bill", "app", "email", "phone"]
    extra = [
        make_entry(
            f"e{i}",
            f"{words[i % 8]} {words[(i * 3) % 8]} question {i}",
            paraphrases=[f"{words[(i * 5) % 8]} issue {i}", f"help with {words[i % 8]}"],
        )
        for i in range(40)
    ]
    return outage + extra


def _edits(entries: list[FaqEntry]) -> tuple[list[FaqEntry], list[str]]:
    """An edit, an added entry in a new language with unseen words, and a removal."""
    edited = replace(
        entries[0],
        answer={**entries[0].answer, "en": "Payments work again since 14:05, zanzibar."},
    )
    added = FaqEntry(
        id="mortgage",
        question={"fr": "Puis-je demander un prêt immobilier ?", "en": "Can I get a mortgage?"},
        answer={"fr": "Oui, en agence.", "en": "Yes, at a branch."},
        paraphrases={"en": ("mortgage application", "home loan quokka")},
    )
    return [edited, added], [entries[3].id, "e7"]


def _same_corpus(got: Corpus, want: Corpus) -> None:
    assert [(r.entry, r.lang, r.kind, r.text) for r in got.rows] == [
        (r.entry, r.lang, r.kind, r.text) for r in want.rows
    ]
    np.testing.assert_array_equal(got.vectors, want.vectors)
    np.testing.assert_allclose(got.centroids, want.centroids, atol=1e-6)
    for name in ("group_entry", "group_size", "text_group", "group_starts", "group_ends"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    assert sorted(got.lexical.languages) == sorted(want.lexical.languages)
    texts = [r.text for r in want.rows] + ["quokka zanzibar", "prêt", "card refund"]
    for text in texts:
        for lang in ("en", "es", "fr"):
            terms = want.lexical.query_terms(text, lang)
            for exclude in (None, 1):
                for a, b in zip(
                    got.lexical.match(terms, lang, exclude=exclude),
                    want.lexical.match(terms, lang, exclude=exclude),
                    strict=True,
                ):
                    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(
                got.chars.score(text, lang), want.chars.score(text, lang), atol=1e-6
            )


def test_an_incremental_edit_equals_a_full_rebuild() -> None:
    entries = _entries()
    encoder = HashingEncoder()
    index = FaqIndex.build(entries, encoder)
    upserts, removed = _edits(entries)
    fast = with_changes_fast(index, upserts, removed)
    full = FaqIndex.build([e for e in fast.entries], encoder)
    assert [e.id for e in fast.entries][-1] == "mortgage"
    _same_corpus(fast._corpus, full._corpus)
    # Same calibration, so the same answers and scores.
    same = with_calibration(full, fast.calibration)
    for text, lang in [*QUERIES, ("home loan quokka", "en"), ("prêt immobilier", "fr")]:
        got = [(m.entry.id, round(m.score, 5)) for m in fast.search(text, lang)]
        assert got == [(m.entry.id, round(m.score, 5)) for m in same.search(text, lang)]
    relearned = with_calibration(fast, relearned_calibration(fast))
    assert relearned.calibration == full.calibration


def test_a_chain_of_edits_equals_a_full_rebuild() -> None:
    entries = _entries()
    encoder = HashingEncoder()
    index = FaqIndex.build(entries, encoder)
    for k in range(4):
        edited = replace(entries[5 + k], question={"en": f"refund bill question {k} walrus"})
        index = with_changes_fast(index, [edited], [entries[10 + k].id])
    _same_corpus(index._corpus, FaqIndex.build(index.entries, encoder)._corpus)


def test_an_edit_embeds_only_the_changed_texts() -> None:
    encoder = CountingEncoder()
    index = FaqIndex.build(_entries(), encoder)
    before = encoder.texts
    upserts, removed = _edits(list(index.entries))
    with_changes_fast(index, upserts, removed)
    new_texts = {t for e in upserts for _, _, t in e.texts()} - {r.text for r in index.texts()}
    assert encoder.texts - before == len(new_texts)


def test_the_replaced_index_is_untouched_by_words_the_new_one_adds() -> None:
    entries = _entries()
    index = FaqIndex.build(entries, HashingEncoder())
    queries = ["quokka zanzibar card", "home loan quokka", "card declined"]
    before = [[(m.entry.id, m.score) for m in index.search(q, "en")] for q in queries]
    upserts, removed = _edits(entries)
    with_changes_fast(index, upserts, removed)  # grows the shared vocabularies
    after = [[(m.entry.id, m.score) for m in index.search(q, "en")] for q in queries]
    assert after == before


def test_query_vectors_carry_over_to_the_new_index() -> None:
    encoder = CountingEncoder()
    index = FaqIndex.build(_entries(), encoder)
    index.decide("is my card blocked", "en")
    calls = encoder.calls
    new = with_changes_fast(index, [make_entry("x", "a new question")])
    assert new.calibration is index.calibration
    new.decide("is my card blocked", "en")
    assert encoder.calls == calls + 1  # the edited text only, not the query


def test_recalibration_waits_for_enough_changes() -> None:
    assert not needs_recalibration(0, 10)
    assert needs_recalibration(1, 10)
    assert not needs_recalibration(1, 1000)
    assert needs_recalibration(math.ceil(RECALIBRATE_SHARE * 1000), 1000)


def test_a_repeated_question_is_answered_from_memory() -> None:
    encoder = CountingEncoder()
    index = FaqIndex.build(_entries(), encoder)
    first = index.decide("is my  card blocked", "en")
    calls = encoder.calls
    again = index.decide("is my card  blocked ", "en")
    assert again == first and encoder.calls == calls
    assert (
        index.search("is my card blocked", "en", 2) == index.search("is my card blocked", "en")[:2]
    )


def test_a_large_corpus_keeps_its_graph_across_edits(monkeypatch: pytest.MonkeyPatch) -> None:
    import faq_index.corpus as corpus_module
    import faq_index.nearest as nearest_module

    monkeypatch.setattr(corpus_module, "HNSW_ABOVE", 100)
    entries = _entries()
    words = ["card", "login", "refund", "outage", "bill", "app", "email", "phone"]
    entries += [make_entry(f"g{i}", f"{words[i % 8]} {words[i // 8 % 8]} {i}") for i in range(60)]
    index = FaqIndex.build(entries, HashingEncoder())
    graph = index._corpus.nearest.index
    assert "HNSW" in type(graph).__name__
    edited = replace(entries[-1], question={"en": "walrus quokka saxophone"})
    fast = with_changes_fast(index, [edited], [entries[-2].id])
    nearest = fast._corpus.nearest
    assert nearest.index is graph  # reused, not rebuilt: in-flight queries keep it
    fresh = [fast._corpus.rows[int(i)].text for i in nearest.fresh_rows]
    assert fresh == ["walrus quokka saxophone"]
    assert np.count_nonzero(nearest.rows < 0) == len(entries[-2].texts()) + 1
    live = nearest.rows[nearest.rows >= 0]
    assert [fast._corpus.rows[int(r)].text for r in live] == [
        index._corpus.rows[int(i)].text for i in np.flatnonzero(nearest.rows >= 0)
    ]
    assert fast.search("walrus quokka saxophone", "en", 1)[0].entry.id == edited.id
    full = FaqIndex.build(fast.entries, HashingEncoder())
    same = with_calibration(full, fast.calibration)
    for text in ["card login 9", "walrus", "refund bill question 3"]:
        assert fast.search(text, "en", 1)[0].entry.id == same.search(text, "en", 1)[0].entry.id
    monkeypatch.setattr(nearest_module, "REBUILD_SHARE", 0.0)  # any change: rebuild
    again = with_changes_fast(fast, [replace(edited, question={"en": "otter"})])
    assert again._corpus.nearest.index is not graph and not len(again._corpus.nearest.fresh_rows)


def test_an_edit_keeps_the_rows_of_unchanged_entries() -> None:
    entries = _entries()
    index = FaqIndex.build(entries, HashingEncoder())
    edited = replace(entries[2], answer={"en": "A new answer."})
    fast = with_changes_fast(index, [edited])
    old, new = index._corpus, fast._corpus
    assert new.rows[0] is old.rows[0] and new.rows[-1] is old.rows[-1]
    changed = [r for r in new.rows if r.entry == 2]
    assert all(r not in old.rows for r in changed if r.text == "A new answer.")
    _same_corpus(new, FaqIndex.build(fast.entries, HashingEncoder())._corpus)
