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

Each caller sleeps on its own condition (one lock for all): an arrival wakes
only a leader waiting for company, and a finished batch wakes only its own
callers and the next leader, not every thread waiting in the queue.

Texts of similar length run together inside the wrapped encoder
(:class:`~faq_index.onnx_encoder.OnnxEncoder` groups by token count,
:class:`~faq_index.encoders.SentenceTransformerEncoder` sorts and slices), so a
batch is handed over whole.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from faq_index.encoders import Encoder, Vectors

__all__ = ["BatchingEncoder"]


@dataclass(eq=False)
class _Request:
    texts: list[str]
    wake: threading.Condition  # on the encoder's one lock: only this caller waits on it
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

    def __init__(self, inner: Encoder, *, max_batch: int = 32, max_wait_s: float = 0.002) -> None:
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be >= 1 and max_wait_s >= 0")
        self._inner = inner
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._lock = threading.Lock()
        self._queue: deque[_Request] = deque()
        self._running = False
        self._gathering: _Request | None = None  # a leader waiting for company
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
            return self._inner.encode(list(texts))
        request = _Request(list(texts), threading.Condition(self._lock))
        with self._lock:
            self._queue.append(request)
            if not self._running:
                self._running = True
                request.lead = True  # the queue was empty: it is first
            elif self._gathering is not None:
                self._gathering.wake.notify()  # a leader waiting for company may go
            while not (request.finished or request.lead):
                request.wake.wait()
        if not request.finished:
            self._lead(request)  # it leads the batch it is first in
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _lead(self, leader: _Request) -> None:
        with self._lock:
            if self._last_size > 1 and self._max_wait_s > 0:
                deadline = time.monotonic() + self._max_wait_s
                self._gathering = leader
                try:
                    while self._queued_texts() < self._max_batch:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        leader.wake.wait(left)
                finally:
                    self._gathering = None
            batch = [self._queue.popleft()]
            size = len(batch[0].texts)
            while self._queue and size + len(self._queue[0].texts) <= self._max_batch:
                size += len(self._queue[0].texts)
                batch.append(self._queue.popleft())
        try:
            self._encode(batch)
        finally:  # even on KeyboardInterrupt, hand over so no caller waits forever
            with self._lock:
                self._hand_over(batch)

    def _hand_over(self, batch: list[_Request]) -> None:
        self._last_size = len(batch)
        for done in batch:
            if done.result is None and done.error is None:
                done.error = RuntimeError("the encoding batch was interrupted")
            done.finished = True
            done.wake.notify()
        if self._queue:
            self._queue[0].lead = True
            self._queue[0].wake.notify()
        else:
            self._running = False

    def _queued_texts(self) -> int:
        return sum(len(r.texts) for r in self._queue)

    def _encode(self, batch: list[_Request]) -> None:
        texts = [t for r in batch for t in r.texts]
        try:
            vectors = self._inner.encode(texts)
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
