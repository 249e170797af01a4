"""A classifier head learned from the FAQ's own phrasings: softmax regression over the
sentence vectors of every entry's question and paraphrases.

Nearest-neighbour cosine looks at one phrasing at a time; the head weighs all of
an entry's phrasings against all the others', so it learns which directions of
the embedding tell two entries apart. It is used twice (see ``FaqIndex``):
its probability of each candidate entry, times ``HEAD_WEIGHT``, is added to the
dense score (the calibration sees the same, with heads trained without the
held-out texts), and an outright answer needs the head to name the same entry
as the ranking (a second opinion). Figures: see ``calibration.HEAD_WEIGHT`` and
``index.HEAD_ANSWER_CONFIDENCE``.

Training is a few seconds of CPU at most: it runs with the calibration (at build
time and in the background after edits, see ``faq_index.incremental``), and
FAQs too large for the budget get no head (answers then rest on the
calibration alone).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

# Cosines are small numbers: logits are SCALE x (vector . weights) + bias.
SCALE = 10.0
L2 = 1e-3
STEPS = 300
RATE = 2.0
# texts x entries above this: no head (training would take more than a few
# seconds on one core: banking77-dev is 539 x 77 = 41,503, ~1 s; 1,000 entries
# with 5 phrasings each would be 5,000,000).
MAX_WORK = 100_000
# The head must reproduce its own training labels this well to be trusted (a
# failed or degenerate fit is dropped, never served).
MIN_FIT_ACCURACY = 0.8

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Head:
    """Softmax regression: ``ids[i]`` is the entry of class ``i``."""

    ids: tuple[str, ...]
    weights: Floats  # dim x classes
    bias: Floats  # classes
    # The content key of each class's entry when the head was trained (empty:
    # unknown): an entry edited since (a paraphrase staff just added) is one
    # the head has not learned, so it gets no say over it.
    versions: tuple[str, ...] = ()
    known: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        versions = self.versions or ("",) * len(self.ids)
        object.__setattr__(self, "known", dict(zip(self.ids, versions, strict=True)))

    def best(self, vector: Floats) -> str:
        """The entry id the head prefers for one query vector."""
        logits = SCALE * (vector @ self.weights) + self.bias
        return self.ids[int(np.argmax(logits))]

    def probabilities(self, vectors: Floats) -> Floats:
        """Class probabilities (rows x classes, in ``ids`` order) of query vectors."""
        return softmax(SCALE * (np.atleast_2d(vectors) @ self.weights) + self.bias)

    def knows(self, faq_id: str) -> bool:
        """Whether ``faq_id`` was one of the classes it was trained on."""
        return faq_id in self.known

    def learned(self, faq_id: str, version: str) -> bool:
        """Whether it was trained on this entry as it is now (``version``: its content
        key; a head trained without versions trusts any)."""
        known = self.known.get(faq_id)
        return known is not None and (known == "" or known == version)


def softmax(z: Floats) -> Floats:
    """Row-wise softmax."""
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    out: Floats = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def train_head(
    vectors: Floats, labels: Sequence[int], ids: Sequence[str], versions: Sequence[str] = ()
) -> Head | None:
    """Fit the head on phrasing ``vectors`` labelled with entry positions in ``ids``;
    None when there is nothing to tell apart, too much work, or a bad fit."""
    y = np.asarray(labels, dtype=np.int64)
    classes = len(ids)
    if classes < 2 or len(y) == 0 or len(np.unique(y)) < 2:
        return None
    if len(y) * classes > MAX_WORK:
        logger.info("no classifier head: %d texts x %d entries over budget", len(y), classes)
        return None
    x = np.asarray(vectors, dtype=np.float32)
    onehot = np.zeros((len(y), classes), dtype=np.float32)
    onehot[np.arange(len(y)), y] = 1.0
    weights = np.zeros((x.shape[1], classes), dtype=np.float32)
    bias = np.zeros(classes, dtype=np.float32)
    # Plain full-batch gradient descent for a fixed number of steps: the early
    # stop is part of the regularisation (L-BFGS to convergence fitted the
    # phrasings more tightly and gated worse: hint3-curekart precision 0.890-0.898
    # against 0.904 with this).
    for _ in range(STEPS):
        z = SCALE * (x @ weights) + bias
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        diff = (p - onehot) / len(y)
        weights -= RATE * (SCALE * (x.T @ diff) + L2 * weights)
        bias -= RATE * diff.sum(axis=0)
    fit = float(np.mean(np.argmax(x @ weights * SCALE + bias, axis=1) == y))
    if not np.all(np.isfinite(weights)) or fit < MIN_FIT_ACCURACY:
        logger.warning("classifier head dropped: fits its own phrasings at %.2f", fit)
        return None
    return Head(
        tuple(ids),
        np.ascontiguousarray(weights, dtype=np.float32),
        bias.astype(np.float32),
        tuple(versions),
    )
