"""The classifier head: learned from the FAQ's phrasings, a second opinion on answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from faq_index import FaqIndex, HashingEncoder
from faq_index import head as head_module
from faq_index.calibration import HEAD_WEIGHT
from faq_index.head import MAX_WORK, GramCounts, train_head
from faq_index.incremental import relearned_calibration, with_calibration, with_changes_fast
from tests.helpers.faq_builders import make_entry


def _clusters(n_per: int, dim: int = 16) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(0)
    centres = np.eye(dim, dtype=np.float32)[:3]
    vectors, labels = [], []
    for label, centre in enumerate(centres):
        for _ in range(n_per):
            v = centre + 0.2 * rng.standard_normal(dim).astype(np.float32)
            vectors.append(v / np.linalg.norm(v))
            labels.append(label)
    return np.asarray(vectors, dtype=np.float32), labels


def test_head_learns_the_entries_apart() -> None:
    vectors, labels = _clusters(5)
    head = train_head(vectors, labels, ["a", "b", "c"])
    assert head is not None
    assert head.knows("b") and not head.knows("z")
    probe = np.zeros(16, dtype=np.float32)
    probe[2] = 1.0
    assert head.best(probe, "") == "c"
    probe = np.zeros(16, dtype=np.float32)
    probe[0] = 1.0
    assert head.best(probe, "") == "a"


def test_no_head_when_there_is_nothing_to_learn_or_too_much() -> None:
    vectors, labels = _clusters(2)
    assert train_head(vectors[:1], labels[:1], ["a"]) is None  # one entry
    assert train_head(vectors[:2], [0, 0], ["a", "b"]) is None  # one class seen
    assert train_head(np.zeros((0, 16), dtype=np.float32), [], ["a", "b"]) is None
    big = MAX_WORK // 2 + 1
    many = np.tile(vectors[:1], (big, 1))
    assert train_head(many, [0] * (big - 1) + [1], ["a", "b"]) is None  # over the budget


def test_a_head_that_cannot_fit_its_phrasings_is_dropped() -> None:
    vectors = np.tile(np.eye(4, dtype=np.float32)[:1], (6, 1))  # identical texts
    assert train_head(vectors, [0, 1, 2, 0, 1, 2], ["a", "b", "c"]) is None


def test_index_learns_a_head_and_keeps_it_through_fast_edits() -> None:
    entries = [
        make_entry("card", "card declined", paraphrases=["card rejected", "cannot pay by card"]),
        make_entry("login", "cannot log in", paraphrases=["login fails", "password rejected"]),
        make_entry("refund", "refund please", paraphrases=["money back", "refund my fee"]),
    ]
    index = FaqIndex.build(entries, HashingEncoder())
    head = index.calibration.head
    assert head is not None and set(head.ids) == {"card", "login", "refund"}
    assert index.calibration.head_weight == HEAD_WEIGHT  # it adds to the ranking too
    assert index.decide("card declined", "en").kind == "answer"
    # A fast edit keeps the calibration and its head; a new entry is not gated.
    edited = with_changes_fast(index, [make_entry("fees", "what fees", paraphrases=["fee"])])
    assert edited.calibration.head is head
    assert edited.decide("what fees", "en").best is not None
    relearned = with_calibration(edited, relearned_calibration(edited))
    assert relearned.calibration.head is not None
    assert "fees" in relearned.calibration.head.ids


def test_an_answer_needs_the_head_to_agree() -> None:
    entries = [
        make_entry("card", "card declined", paraphrases=["card rejected", "cannot pay by card"]),
        make_entry("login", "cannot log in", paraphrases=["login fails", "password rejected"]),
    ]
    index = FaqIndex.build(entries, HashingEncoder())
    assert index.calibration.head is not None
    assert index.decide("card declined", "en").kind == "answer"
    # The same index with a head that prefers the other entry for everything.
    head = index.calibration.head
    contrary = type(head)(
        ("card", "login"), np.zeros_like(head.weights), np.asarray([-5.0, 5.0], dtype=np.float32)
    )
    from dataclasses import replace

    gated = with_calibration(index, replace(index.calibration, head=contrary))
    assert gated.decide("card declined", "en").kind != "answer"
    # A head naming an entry that has since been removed has no say.
    gone = type(head)(
        ("card", "old"), np.zeros_like(head.weights), np.asarray([-5.0, 5.0], dtype=np.float32)
    )
    ungated = with_calibration(index, replace(index.calibration, head=gone))
    assert ungated.decide("card declined", "en").kind == "answer"


def test_an_entry_edited_since_the_head_learned_is_not_gated() -> None:
    from dataclasses import replace

    card = make_entry("card", "card declined", paraphrases=["card rejected"])
    login = make_entry("login", "cannot log in", paraphrases=["login fails"])
    index = FaqIndex.build([card, login], HashingEncoder())
    head = index.calibration.head
    assert head is not None and head.learned("card", card.content_key())
    contrary = type(head)(
        ("card", "login"),
        np.zeros_like(head.weights),
        np.asarray([-5.0, 5.0], dtype=np.float32),
        (card.content_key(), login.content_key()),
    )
    gated = with_calibration(index, replace(index.calibration, head=contrary))
    assert gated.decide("my plastic got refused", "en").kind != "answer"
    # Staff map the question to the card entry: served at once, the stale head has no say.
    mapped = make_entry(
        "card", "card declined", paraphrases=["card rejected", "my plastic got refused"]
    )
    edited = with_changes_fast(gated, [mapped])
    assert not contrary.learned("card", mapped.content_key())
    decision = edited.decide("my plastic got refused", "en")
    assert decision.kind == "answer" and decision.matches[0].entry.id == "card"


class _Noise:
    """An encoder whose vectors say nothing about the text (fixed per text)."""

    name = "noise"
    dim = 16

    def encode(self, texts: list[str]) -> np.ndarray:
        out = []
        for text in texts:
            rng = np.random.default_rng(sum(map(ord, text)) + 7919 * len(text))
            v = rng.standard_normal(self.dim).astype(np.float32)
            out.append(v / np.linalg.norm(v))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


_PRODUCTS = {
    "protein": ["whey protein", "protein powder", "best protein shake", "isolate protein"],
    "dumbbell": ["dumbbell set", "adjustable dumbbells", "10kg dumbbell", "dumbbell pair"],
    "vitamins": ["multivitamin tablets", "vitamin d3", "vitamin c tablets", "daily multivitamin"],
}


def test_character_ngrams_tell_entries_apart_where_the_vectors_cannot() -> None:
    texts = [t for phrasings in _PRODUCTS.values() for t in phrasings]
    labels = [i for i, phrasings in enumerate(_PRODUCTS.values()) for _ in phrasings]
    vectors = _Noise().encode(texts)
    ids = list(_PRODUCTS)
    with_grams = train_head(vectors, labels, ids, texts=GramCounts.of(texts), grams_share=2.0)
    assert with_grams is not None and with_grams.grams_share == pytest.approx(2.0)
    unseen = "proteinn powdr"  # misspelled, never a training text
    probe = _Noise().encode([unseen])[0]
    assert with_grams.best(probe, unseen) == "protein"
    assert with_grams.best(probe, "dumbells 5 kg") == "dumbbell"
    probs = with_grams.probabilities(np.stack([probe, probe]), [unseen, "vitamin b12"])
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert ids[int(np.argmax(probs[1]))] == "vitamins"
    # The same question asked again reuses its n-gram row and answers the same.
    assert with_grams.best(probe, unseen) == "protein"
    plain = train_head(vectors, labels, ids)  # noise alone: it may not even fit
    assert plain is None or (plain.grams is None and plain.grams_share == 0.0)
    with pytest.raises(ValueError, match="one text per vector"):
        train_head(vectors, labels, ids, grams_share=0.3)
    with pytest.raises(ValueError, match="one text per vector"):
        train_head(vectors, labels, ids, texts=GramCounts.of(texts[:3]), grams_share=0.3)


def _noisy_products_index() -> FaqIndex:
    """The products FAQ over vectors that carry nothing: only the n-grams can name a
    held-out phrasing's entry, so the calibration chooses a share above 0."""
    entries = [
        make_entry(faq_id, phrasings[0], paraphrases=phrasings[1:])
        for faq_id, phrasings in _PRODUCTS.items()
    ]
    index = FaqIndex.build(entries, _Noise())
    head = index.calibration.head
    assert head is not None and head.grams_share > 0
    return index


def test_the_calibration_chooses_the_ngram_share_from_held_out_phrasings() -> None:
    noisy = _noisy_products_index()
    assert noisy.search("adjustable dumbell", "en", k=1)[0].entry.id == "dumbbell"
    # Vectors that name every entry: n-grams can do no better (the entry's number
    # is their only difference), and on a tie the sentence vectors alone are kept.
    informative = FaqIndex.build(_shared_words_entries(), _ByEntry())
    head = informative.calibration.head
    assert head is not None and head.grams_share == 0.0


_SHARED = ["my order please", "please my order", "order my please", "my please order"]


def _shared_words_entries() -> list[Any]:
    return [
        make_entry(f"e{n}", f"{_SHARED[0]} {n}", paraphrases=[f"{t} {n}" for t in _SHARED[1:]])
        for n in range(3)
    ]


class _ByEntry:
    """Vectors that name the entry by the number the text ends with."""

    name = "by-entry"
    dim = 8

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            last = text.split()[-1] if text.split() else ""
            out[i, int(last) % self.dim if last.isdigit() else self.dim - 1] = 1.0
        return out


def test_no_ngrams_over_their_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [t for phrasings in _PRODUCTS.values() for t in phrasings]
    labels = [i for i, phrasings in enumerate(_PRODUCTS.values()) for _ in phrasings]
    vectors, ids = _ByEntry().encode([f"x {n}" for n in labels]), list(_PRODUCTS)
    monkeypatch.setattr(head_module, "GRAMS_MAX_WORK", 10)
    head = train_head(vectors, labels, ids, texts=GramCounts.of(texts), grams_share=0.6)
    assert head is not None and head.grams is None and head.grams_share == 0.0
    assert head.best(vectors[0], "anything") == "protein"


def test_a_recalibration_for_verdicts_only_keeps_the_chosen_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = _noisy_products_index()
    head = index.calibration.head
    assert head is not None
    # Were the share chosen again it would be 0 (the only one on offer): it is not,
    # the phrasings are the same ones.
    monkeypatch.setattr(head_module, "GRAMS_SHARES", (0.0,))
    again = relearned_calibration(index)
    assert again.head is not None and again.head.grams_share == head.grams_share
    # An edited entry: the share is chosen anew.
    edited = with_changes_fast(
        index,
        [make_entry("protein", "whey protein", paraphrases=["protein bars", "vegan protein"])],
    )
    anew = relearned_calibration(edited)
    assert anew.head is not None and anew.head.grams_share == 0.0
