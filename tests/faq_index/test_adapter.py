"""The contrastive adapter learned from an FAQ's phrasings (faq_index.adapter)."""

from __future__ import annotations

import numpy as np

from faq_index.adapter import Adapter, train_adapter


def _phrasings(
    rng: np.random.Generator, per_entry: int, entries: int = 8, dim: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Entries told apart by a faint direction each, under a strong shared nuisance
    (cosine between two phrasings is mostly the nuisance's)."""
    labels = np.repeat(np.arange(entries), per_entry)
    topic = np.eye(dim, dtype=np.float32)[:entries]
    noise = 0.5 * rng.normal(size=(len(labels), dim)).astype(np.float32)
    noise[:, :entries] *= 0.3  # the nuisance lives outside the topic directions
    x = topic[labels] + noise
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, labels


def _nearest_accuracy(train: np.ndarray, y: np.ndarray, test: np.ndarray, yt: np.ndarray) -> float:
    return float(np.mean(y[np.argmax(test @ train.T, axis=1)] == yt))


def test_adapter_brings_an_entrys_unseen_phrasings_closer() -> None:
    rng = np.random.default_rng(0)
    x, y = _phrasings(rng, per_entry=12)
    xt, yt = _phrasings(rng, per_entry=10)
    adapter = train_adapter(x, y.tolist(), [f"t{i}" for i in range(len(y))])
    assert adapter is not None and adapter.steps > 0
    before = _nearest_accuracy(x, y, xt, yt)
    after = _nearest_accuracy(adapter.apply(x), y, adapter.apply(xt), yt)
    assert after >= before + 0.1  # 0.49 -> 0.61 (seed 0)
    assert np.allclose(np.linalg.norm(adapter.apply(xt), axis=1), 1.0, atol=1e-5)


def test_no_adapter_from_too_little_or_one_entry() -> None:
    rng = np.random.default_rng(1)
    x, y = _phrasings(rng, per_entry=2)
    assert train_adapter(x, y.tolist()) is None  # 16 phrasings
    x, y = _phrasings(rng, per_entry=30, entries=1)
    assert train_adapter(x, y.tolist()) is None


def test_identity_adapter_keeps_vectors() -> None:
    vectors = np.eye(4, dtype=np.float32)[:3] * 2.0
    same = Adapter(np.eye(4, dtype=np.float32)).apply(vectors)
    assert np.allclose(same, np.eye(4, dtype=np.float32)[:3])
