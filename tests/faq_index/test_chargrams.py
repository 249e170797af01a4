"""Character n-gram TF-IDF: typos, inflections, languages kept apart."""

from __future__ import annotations

import numpy as np

from faq_index.chargrams import CharIndex, char_grams

TEXTS = [
    "me sale tarjeta denegada",
    "no puedo entrar en la app",
    "card declined at the shop",
    "reclamación por escrito",
]
LANGS = ["es", "es", "en", "es"]


def test_grams_are_folded_padded_words() -> None:
    grams = char_grams("Sí, ¡ya!")
    assert " si " in grams and " ya " in grams and "," not in "".join(grams)
    assert char_grams("") == {}


def test_typos_and_inflections_still_match() -> None:
    index = CharIndex.from_texts(TEXTS, LANGS)
    scores = index.score("me deniegan la tarjta", "es")
    assert int(np.argmax(scores)) == 0
    assert index.score("reclamacion", "es")[3] > 0.3  # no accent typed
    assert scores[2] == 0.0  # English text, Spanish query


def test_scores_are_cosines_and_exclusion_works() -> None:
    index = CharIndex.from_texts(TEXTS, LANGS)
    same = index.score(TEXTS[1], "es")
    assert same[1] == np.float32(1.0) or abs(float(same[1]) - 1.0) < 1e-5
    assert np.all((same >= 0) & (same <= 1))
    assert index.score(TEXTS[1], "es", exclude=1)[1] == 0.0
    assert not index.score("xyzzy qwerty", "es").any()
    assert not index.score("tarjeta", "fr").any()


def test_texts_without_a_language_are_left_out() -> None:
    index = CharIndex.from_texts(TEXTS, ["es", None, "en", "es"])
    assert index.score(TEXTS[1], "es")[1] == 0.0
