"""Encoders: the hashing encoder and model loading."""

from __future__ import annotations

import numpy as np
import pytest

from faq_index import Encoder, HashingEncoder, load_encoder
from faq_index.errors import EncoderError


def test_hashing_encoder_is_deterministic_and_normalised() -> None:
    texts = ["card declined", "Card declined", "¿Cuándo vuelve el servicio?", ""]
    a = HashingEncoder().encode(texts)
    b = HashingEncoder().encode(texts)
    assert a.dtype == np.float32 and a.shape == (4, 256)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a[:3], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(a[0], a[1])  # case-folded
    assert not a[3].any()  # empty text: zero vector, not NaN


def test_hashing_encoder_similar_texts_are_closer() -> None:
    v = HashingEncoder().encode(["card payment failed", "card payments failing", "weather"])
    assert v[0] @ v[1] > v[0] @ v[2]


def test_load_encoder_hashing_spec_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    enc = load_encoder("hashing:64")
    assert isinstance(enc, Encoder) and enc.dim == 64 and enc.name == "hashing-d64-n3"
    monkeypatch.setenv("FARO_EMBEDDING_MODEL", "hashing")
    assert load_encoder(None).name == "hashing-d256-n3"
    with pytest.raises(EncoderError):
        load_encoder("hashing:zero")


def test_load_encoder_unknown_model_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EncoderError, match="cannot load embedding model"):
        load_encoder("/nonexistent/model-dir")
