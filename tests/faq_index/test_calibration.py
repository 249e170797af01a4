"""Calibration from the index's own paraphrases."""

from __future__ import annotations

import numpy as np

from faq_index import FaqIndex, HashingEncoder
from faq_index.calibration import DEFAULT_PARAMS, Calibration, _logistic, top_margins
from tests.helpers.faq_builders import make_entry


def test_small_faq_stays_near_the_prior_and_is_finite(outage_index: FaqIndex) -> None:
    params = outage_index.calibration.params("en")
    assert params.alpha == DEFAULT_PARAMS.alpha
    assert np.all(np.isfinite(params.coef))
    assert np.allclose(params.coef, DEFAULT_PARAMS.coef, atol=2.0)


def test_separable_data_does_not_diverge() -> None:
    x = np.array([[1, 0.9, 0.3, 0.5], [1, 0.2, 0.0, 0.0]] * 20, dtype=np.float64)
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
    f, lex = np.array([0.7, 0.7]), np.array([0.5, 0.5])
    low, high = params.confidence(f, np.array([0.0, 0.2]), lex)
    assert 0 <= low < high <= 1
