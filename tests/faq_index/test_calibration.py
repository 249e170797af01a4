"""Calibration from the index's own paraphrases, and the evidence cap."""

from __future__ import annotations

import numpy as np

from faq_index import FaqIndex, HashingEncoder
from faq_index.calibration import (
    DEFAULT_PARAMS,
    WEAK_CAP,
    WEIGHT_GRID,
    Calibration,
    LangParams,
    _logistic,
    top_margins,
)
from faq_index.corpus import Signals
from tests.helpers.faq_builders import make_entry


def _signals(dense: list[float], lexical: list[float], hits: list[float]) -> Signals:
    n = len(dense)
    return Signals(
        np.arange(n, dtype=np.int64),
        np.asarray(dense, dtype=np.float32),
        np.asarray(lexical, dtype=np.float32),
        np.asarray(lexical, dtype=np.float32),
        np.asarray(hits, dtype=np.float32),
    )


def test_small_faq_stays_near_the_prior_and_is_finite(outage_index: FaqIndex) -> None:
    params = outage_index.calibration.params("en")
    assert params.weights == DEFAULT_PARAMS.weights
    assert np.all(np.isfinite(params.coef))
    assert np.allclose(params.coef, DEFAULT_PARAMS.coef, atol=2.0)


def test_every_signal_keeps_a_voice_in_the_weight_grid() -> None:
    assert DEFAULT_PARAMS.weights in WEIGHT_GRID
    for dense, lexical, chars in WEIGHT_GRID:
        assert dense >= 0.3 and lexical >= 0.1 and chars >= 0.1
        assert abs(dense + lexical + chars - 1.0) < 1e-9


def test_separable_data_does_not_diverge() -> None:
    x = np.array(
        [[1, 0.9, 0.3, 0.5, 0.0, 1.0], [1, 0.2, 0.0, 0.0, -0.2, 0.0]] * 20, dtype=np.float64
    )
    y = np.array([1.0, 0.0] * 20)
    w = _logistic(x, y, np.asarray(DEFAULT_PARAMS.coef))
    assert np.all(np.abs(w) < 100)


def test_margins_and_language_fallback() -> None:
    np.testing.assert_allclose(top_margins(np.array([0.9, 0.6, 0.5])), [0.3, -0.3, -0.4], atol=1e-6)
    calibration = Calibration(by_lang={"es": DEFAULT_PARAMS})
    assert calibration.params("fr") is calibration.pooled


def test_confidence_rises_with_margin() -> None:
    entries = [
        make_entry(f"e{i}", f"topic {i} question", paraphrases=[f"about topic {i}"])
        for i in range(5)
    ]
    params = FaqIndex.build(entries, HashingEncoder()).calibration.params("en")
    signals = _signals([0.7, 0.7], [0.5, 0.5], [2, 2])
    f = params.fuse(signals)
    low, high = params.confidence(f, np.array([0.0, 0.2]), signals)
    assert 0 <= low < high <= 1


def test_one_word_match_the_dense_model_rejects_is_never_confident() -> None:
    # Entry 0 wins lexically on one word, the dense model prefers entry 1.
    lexical_only = _signals([0.60, 0.75], [0.9, 0.0], [1, 0])
    fused = np.array([0.9, 0.3], dtype=np.float32)
    conf = DEFAULT_PARAMS.confidence(fused, top_margins(fused), lexical_only)
    assert conf[0] <= WEAK_CAP
    # The same match with two informative words and dense agreement is trusted.
    agreed = _signals([0.80, 0.75], [0.9, 0.0], [2, 0])
    conf = DEFAULT_PARAMS.confidence(fused, top_margins(fused), agreed)
    assert conf[0] > 0.9


def test_unexplained_question_capped_only_where_dense_is_not_trusted() -> None:
    # One informative word, a third of the question's IDF mass, dense agrees.
    partial = _signals([0.72, 0.70], [0.33, 0.0], [1, 0])
    fused = np.array([0.8, 0.2], dtype=np.float32)
    spanish_like = LangParams((0.3, 0.3, 0.4), DEFAULT_PARAMS.coef)
    english_like = LangParams((0.8, 0.1, 0.1), DEFAULT_PARAMS.coef)
    assert spanish_like.confidence(fused, top_margins(fused), partial)[0] <= WEAK_CAP
    assert english_like.confidence(fused, top_margins(fused), partial)[0] > 0.9
