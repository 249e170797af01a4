"""Encoders: the hashing encoder and model loading."""

from __future__ import annotations

from typing import Any

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


def test_load_encoder_hashing_spec() -> None:
    enc = load_encoder("hashing:64")
    assert isinstance(enc, Encoder) and enc.dim == 64 and enc.name == "hashing-d64-n3"
    assert load_encoder("hashing").name == "hashing-d256-n3"
    with pytest.raises(EncoderError):
        load_encoder("hashing:zero")


def test_load_encoder_unknown_model_is_a_clear_error() -> None:
    # a name that is no path: looked up in the local cache only, never on a hub
    for missing in ("/nonexistent/model-dir", "no-such-org/no-such-model"):
        with pytest.raises(EncoderError, match="cannot load embedding model"):
            load_encoder(missing)


def test_minilm_fast_path_equals_sentence_transformers_and_int8_stays_close() -> None:
    exact = load_encoder(None, int8=False)
    quick = load_encoder(None, int8=True)
    assert quick.name == exact.name + "+int8"  # cached vectors of the two never mix
    texts = ["why was my card declined?", "mi tarjeta no va", "hi", "word " * 400]
    reference = exact._model.encode(texts, normalize_embeddings=True)  # type: ignore[attr-defined]
    np.testing.assert_allclose(exact.encode(texts), reference, atol=1e-5)
    cosine = np.sum(quick.encode(texts) * reference, axis=1)
    assert np.all(cosine > 0.8) and float(np.mean(cosine[:3])) > 0.88
    assert quick.encode([]).shape == (0, quick.dim)


def test_minilm_fast_path_runs_texts_of_similar_length_together_and_keeps_their_order() -> None:
    encoder: Any = load_encoder(None)
    texts = [
        "a much longer question about my card and the app " * (i % 4) + str(i) for i in range(20)
    ]
    calls: list[list[str]] = []
    forward = encoder._forward

    def recording(batch: list[str]) -> Any:
        calls.append(batch)
        return forward(batch)

    encoder._forward = recording
    got = encoder.encode(texts)
    alone = np.concatenate([forward([t]) for t in texts])
    np.testing.assert_allclose(got, alone, atol=1e-5)  # padding changes no vector
    assert sorted(t for c in calls for t in c) == sorted(texts) and max(map(len, calls)) <= 8
    lengths = [[len(t) for t in c] for c in calls]
    for before, after in zip(lengths, lengths[1:], strict=False):
        assert max(before) <= min(after)  # each slice's texts are no longer than the next's


def test_the_library_reads_no_environment_and_sets_no_process_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    import torch

    monkeypatch.setenv("FARO_EMBEDDING_MODEL", "hashing")
    monkeypatch.setenv("FARO_EMBEDDING_INT8", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    before_threads, before_env = torch.get_num_threads(), dict(os.environ)
    torch.set_num_threads(2)
    try:
        enc = load_encoder(None)  # the packaged MiniLM, full precision: env not read
        assert not enc.name.endswith("+int8") and enc.dim == 384
        assert load_encoder(None, int8=True).name.endswith("+int8")
        assert torch.get_num_threads() == 2
        assert dict(os.environ) == before_env
    finally:
        torch.set_num_threads(before_threads)
