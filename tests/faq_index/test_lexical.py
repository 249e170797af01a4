"""BM25 lexical index."""

from __future__ import annotations

import numpy as np

from faq_index.lexical import LexicalIndex


def _index() -> LexicalIndex:
    texts = ["card payments failing", "login does not work", "pagos con tarjeta fallan"]
    return LexicalIndex.from_texts(texts, ["en", "en", "es"])


def test_scores_are_in_unit_range_and_per_language() -> None:
    index = _index()
    en = index.score("my card payment failed", "en")
    assert en.shape == (3,) and 0 < en[0] <= 1 and en[1] == 0 and en[2] == 0
    es = index.score("fallan los pagos", "es")
    assert es[2] > 0 and es[0] == 0


def test_unknown_words_lower_the_score() -> None:
    index = _index()
    full = index.score("card payment", "en")[0]
    diluted = index.score("card payment zebra", "en")[0]
    assert 0 < diluted < full


def test_exclude_hides_a_text_and_its_unique_words() -> None:
    index = _index()
    scores = index.score_terms(["login", "work"], "en", exclude=1)
    assert np.all(scores == 0)


def test_unknown_language_scores_nothing() -> None:
    assert not _index().score("card", "fr").any()
