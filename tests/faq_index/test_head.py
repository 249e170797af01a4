"""The classifier head: learned from the FAQ's phrasings, a second opinion on answers."""

from __future__ import annotations

import numpy as np

from faq_index import FaqIndex, HashingEncoder
from faq_index.calibration import HEAD_WEIGHT
from faq_index.head import MAX_WORK, train_head
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
    assert head.best(probe) == "c"
    probe = np.zeros(16, dtype=np.float32)
    probe[0] = 1.0
    assert head.best(probe) == "a"


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
