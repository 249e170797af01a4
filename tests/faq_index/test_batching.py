"""Micro-batching of query embeddings: same vectors, fewer encoder calls under load."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import faq_index.batching as batching_module
from faq_index import HashingEncoder
from faq_index.batching import BatchingEncoder
from faq_index.encoders import Vectors


class SlowEncoder:
    """A hashing encoder that takes ``delay`` seconds per call and records batch sizes."""

    def __init__(self, delay: float = 0.05, fail_on: str | None = None) -> None:
        self._inner = HashingEncoder(dim=64)
        self.delay = delay
        self.fail_on = fail_on
        self.calls: list[int] = []
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "slow-hashing"

    @property
    def dim(self) -> int:
        return self._inner.dim

    def encode(self, texts: list[str]) -> Vectors:
        with self._lock:
            self.calls.append(len(texts))
        time.sleep(self.delay)
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError("the model failed")
        return self._inner.encode(texts)


def test_a_lone_question_is_encoded_at_once_and_gives_the_same_vector() -> None:
    inner = SlowEncoder(delay=0.0)
    batching = BatchingEncoder(inner, max_wait_s=0.5)
    started = time.perf_counter()
    got = batching.encode(["why is the app down?"])
    assert time.perf_counter() - started < 0.25  # no wait for company at low load
    assert inner.calls == [1]
    np.testing.assert_allclose(got, HashingEncoder(dim=64).encode(["why is the app down?"]))
    assert batching.name == "slow-hashing" and batching.dim == 64


def test_concurrent_questions_share_batches_and_each_gets_its_own_rows() -> None:
    inner = SlowEncoder(delay=0.05)
    batching = BatchingEncoder(inner, max_batch=16)
    texts = [f"question number {i} about cards" for i in range(48)]
    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(lambda t: batching.encode([t]), texts))
    expected = HashingEncoder(dim=64).encode(texts)
    for i, got in enumerate(results):
        assert got.shape == (1, 64)
        np.testing.assert_allclose(got[0], expected[i], rtol=1e-6)
    assert sum(inner.calls) == 48
    assert batching.batches < 48 / 3  # batched: many fewer batches than questions
    assert max(inner.calls) <= 16  # at most max_batch texts per batch
    assert batching.texts == 48


def test_requests_of_several_texts_keep_their_order() -> None:
    inner = SlowEncoder(delay=0.02)
    batching = BatchingEncoder(inner, max_batch=8)
    groups = [[f"a{i}", f"b{i}", f"c{i}"] for i in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(batching.encode, groups))
    reference = HashingEncoder(dim=64)
    for group, got in zip(groups, results, strict=True):
        np.testing.assert_allclose(got, reference.encode(group), rtol=1e-6)
    assert max(inner.calls) <= 8


def test_a_large_request_goes_straight_to_the_encoder() -> None:
    inner = SlowEncoder(delay=0.0)
    batching = BatchingEncoder(inner, max_batch=4)
    assert batching.encode([f"t{i}" for i in range(10)]).shape == (10, 64)
    assert inner.calls == [10] and batching.batches == 0
    assert batching.encode([]).shape == (0, 64)


class RecordingEncoder(SlowEncoder):
    """Records the texts of each call."""

    def __init__(self) -> None:
        super().__init__(delay=0.0)
        self.seen: list[list[str]] = []

    def encode(self, texts: list[str]) -> Vectors:
        self.seen.append(list(texts))
        return super().encode(texts)


def test_a_batch_reaches_the_encoder_whole_and_each_caller_gets_its_rows() -> None:
    # grouping texts by length is the encoder's job (OnnxEncoder, SentenceTransformerEncoder)
    inner = RecordingEncoder()
    batching = BatchingEncoder(inner, max_batch=64)
    texts = ["a much longer question about the card " * (i % 5) + str(i) for i in range(20)]
    got = batching.encode(texts)
    np.testing.assert_allclose(got, HashingEncoder(dim=64).encode(texts), rtol=1e-6)
    assert inner.seen == [texts]


class CountingCondition(threading.Condition):
    """A condition that counts how often a thread waiting on it woke up."""

    wakeups = 0

    def wait(self, timeout: float | None = None) -> bool:
        woke = super().wait(timeout)
        CountingCondition.wakeups += 1
        return woke


class _CountingThreading:
    """The threading module as batching sees it, with :class:`CountingCondition`."""

    Condition = CountingCondition
    Lock = staticmethod(threading.Lock)


def test_waiting_callers_are_woken_for_their_own_answer_not_for_every_arrival(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batching_module, "threading", _CountingThreading())
    CountingCondition.wakeups = 0
    inner = SlowEncoder(delay=0.02)
    batching = BatchingEncoder(inner, max_batch=8)
    texts = [f"question {i}" for i in range(64)]
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda t: batching.encode([t]), texts))
    assert [r.shape for r in results] == [(1, 64)] * 64
    # each caller wakes once (its answer is ready, or it leads the next batch), and a
    # leader gathering company once per arrival; waking every waiter at each arrival and
    # each batch's end (one shared condition) took several hundred wake-ups here
    assert CountingCondition.wakeups <= 3 * len(texts)


def test_a_failure_reaches_every_caller_of_its_batch_and_the_next_batch_works() -> None:
    inner = SlowEncoder(delay=0.05, fail_on="poison")
    batching = BatchingEncoder(inner, max_batch=16)
    texts = ["poison"] + [f"fine {i}" for i in range(7)]
    errors: list[str] = []

    def ask(text: str) -> None:
        try:
            batching.encode([text])
        except RuntimeError as exc:
            errors.append(str(exc))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(ask, texts))
    assert "the model failed" in errors  # the poisoned caller always sees it
    assert batching.encode(["after the failure"]).shape == (1, 64)  # not wedged


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        BatchingEncoder(HashingEncoder(), max_batch=0)
    with pytest.raises(ValueError):
        BatchingEncoder(HashingEncoder(), max_wait_s=-1)
