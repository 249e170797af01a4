"""Micro-batching of query embeddings across threads.

One transformer forward pass over 16 short questions costs far less than 16
passes over one (a few times less per question on CPU), so during a surge the
questions that arrive while one is being encoded are encoded together.

How: callers queue their texts; whoever finds no batch running leads. The
leader waits for company only when the last batch had some (so a lone
question at low load is encoded at once, with no added wait), takes every
queued request up to ``max_batch`` texts, encodes them in one call and hands
each caller its rows. If requests are still queued, the first of them leads
the next batch (a leader never works for others after its own answer is
ready, so no caller waits longer than the batches ahead of it).

A batch is padded to its longest text, and customers' questions vary in
length (6 to 60 tokens): 32 questions in arrival order cost as much per
question as one alone (~11 ms of CPU each on this machine's core). So the
texts of a batch are sorted by length and encoded in slices of ``slice_size``
(8): ~6 ms each (bench/README.md, "Encoder slices").
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from faq_index.encoders import Encoder, Vectors

__all__ = ["SLICE_SIZE", "BatchingEncoder"]

# Texts per forward pass: measured on unseen questions, sorted by length, one
# torch thread: 4 → 6.2, 6 → 6.0, 8 → 6.1, 12 → 6.0-6.5 ms of CPU per question.
SLICE_SIZE = 8


@dataclass(eq=False)
class _Request:
    texts: list[str]
    lead: bool = False
    finished: bool = False
    result: Vectors | None = None
    error: BaseException | None = None


class BatchingEncoder:
    """An :class:`Encoder` that encodes concurrent small requests in one batch.

    Requests of ``max_batch`` texts or more (index builds) go straight to the
    wrapped encoder. Same vectors as the wrapped encoder, up to float rounding
    of padded batches.
    """

    def __init__(
        self,
        inner: Encoder,
        *,
        max_batch: int = 32,
        max_wait_s: float = 0.002,
        slice_size: int = SLICE_SIZE,
    ) -> None:
        if max_batch < 1 or max_wait_s < 0 or slice_size < 1:
            raise ValueError("max_batch and slice_size must be >= 1 and max_wait_s >= 0")
        self._inner = inner
        self._slice = slice_size
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._cond = threading.Condition()
        self._queue: deque[_Request] = deque()
        self._running = False
        self._last_size = 0
        self.batches = 0  # batches encoded (for benchmarks and tests)
        self.texts = 0  # texts encoded through batches

    @property
    def inner(self) -> Encoder:
        """The wrapped encoder."""
        return self._inner

    @property
    def name(self) -> str:
        """The wrapped encoder's name (vectors are the same, so caches are shared)."""
        return self._inner.name

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return self._inner.dim

    def encode(self, texts: list[str]) -> Vectors:
        """Unit vectors for ``texts``, encoded together with concurrent callers' texts."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) >= self._max_batch:
            return self._sliced(list(texts))
        request = _Request(list(texts))
        with self._cond:
            self._queue.append(request)
            if self._running:
                self._cond.notify_all()  # a leader waiting for company may go
            else:
                self._running = True
                request.lead = True  # the queue was empty: it is first
            while not (request.finished or request.lead):
                self._cond.wait()
        if not request.finished:
            self._lead()  # it leads the batch it is first in
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _lead(self) -> None:
        with self._cond:
            if self._last_size > 1 and self._max_wait_s > 0:
                deadline = time.monotonic() + self._max_wait_s
                while self._queued_texts() < self._max_batch:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            batch = [self._queue.popleft()]
            size = len(batch[0].texts)
            while self._queue and size + len(self._queue[0].texts) <= self._max_batch:
                size += len(self._queue[0].texts)
                batch.append(self._queue.popleft())
        try:
            self._encode(batch)
        finally:  # even on KeyboardInterrupt, hand over so no caller waits forever
            with self._cond:
                self._hand_over(batch)

    def _hand_over(self, batch: list[_Request]) -> None:
        self._last_size = len(batch)
        for done in batch:
            if done.result is None and done.error is None:
                done.error = RuntimeError("the encoding batch was interrupted")
            done.finished = True
        if self._queue:
            self._queue[0].lead = True
        else:
            self._running = False
        self._cond.notify_all()

    def _sliced(self, texts: list[str]) -> Vectors:
        """The inner encoder's vectors, texts of similar length encoded together."""
        if len(texts) <= 1:
            return self._inner.encode(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self._slice):
            rows = order[start : start + self._slice]
            out[rows] = self._inner.encode([texts[i] for i in rows])
        return out

    def _queued_texts(self) -> int:
        return sum(len(r.texts) for r in self._queue)

    def _encode(self, batch: list[_Request]) -> None:
        texts = [t for r in batch for t in r.texts]
        try:
            vectors = self._sliced(texts)
        except Exception as exc:  # every caller of the batch gets the error
            for r in batch:
                r.error = exc
            return
        self.batches += 1
        self.texts += len(texts)
        start = 0
        for r in batch:
            r.result = vectors[start : start + len(r.texts)]
            start += len(r.texts)
