"""A classifier head learned from the FAQ's own phrasings: softmax regression over the
sentence vectors of every entry's question and paraphrases (and, where the FAQ's
held-out phrasings show it helps, their character n-grams: ``GRAMS_SHARES``).

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
from scipy import sparse

from faq_index.features import Bag, Vocabulary, bags_matrix, smooth_idf, widened
from faq_index.text import char_grams

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

# The share of character n-grams in the head's input: each phrasing is its unit
# sentence vector and ``share`` x its unit TF-IDF vector of character n-grams
# (3..5 characters of each folded word), the pair scaled back to unit length.
# The calibration picks the share from these by how well heads trained without
# them name the held-out phrasings' entries (``calibration._with_head``):
# n-grams know product names, misspellings and, with an English encoder, the
# words of other languages; on clean English the sentence vectors alone win.
GRAMS_SHARES = (0.0, 0.3, 0.6)
# n-gram columns x entries above this: no n-grams (their weights would take more
# than 16 MB and training more than a few seconds; banking77-dev: 5,764 x 77).
GRAMS_MAX_WORK = 4_000_000

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class GramCounts:
    """Character n-gram counts of some texts (texts x ids of ``vocab``)."""

    counts: sparse.csr_matrix
    vocab: Vocabulary

    @classmethod
    def of(cls, texts: Sequence[str], vocab: Vocabulary | None = None) -> GramCounts:
        """Count ``texts``' n-grams; with a ``vocab``, those it does not know are left
        out (it is shared and never grown here); without, a new one holds them all."""
        if vocab is None:
            vocab = Vocabulary()
            bags = [Bag.of(char_grams(t), vocab) for t in texts]
        else:
            bags = [Bag.of_known(char_grams(t), vocab) for t in texts]
        return cls(bags_matrix(bags, len(vocab)), vocab)

    def rows(self, idxs: Sequence[int] | npt.NDArray[np.int64]) -> GramCounts:
        """The counts of the texts at ``idxs``."""
        return GramCounts(self.counts[np.asarray(idxs, dtype=np.int64)], self.vocab)

    def then(self, more: GramCounts) -> GramCounts:
        """These texts followed by ``more`` (counted in the same vocabulary)."""
        width = len(self.vocab)
        stacked = sparse.vstack([widened(self.counts, width), widened(more.counts, width)], "csr")
        return GramCounts(stacked, self.vocab)


@dataclass(frozen=True)
class Grams:
    """The character n-grams of the head's training phrasings (its input columns),
    with their IDF; ``vocab`` is the corpus's n-gram vocabulary (append-only)."""

    vocab: Vocabulary
    columns: npt.NDArray[np.int64]  # vocabulary id -> input column (-1: not learned)
    idf: npt.NDArray[np.float32]

    @classmethod
    def learn(cls, texts: GramCounts) -> Grams:
        counts = texts.counts
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        used = np.flatnonzero(df > 0)
        columns = np.full(counts.shape[1], -1, dtype=np.int64)
        columns[used] = np.arange(len(used))
        idf = smooth_idf(counts.shape[0], df[used])
        return cls(texts.vocab, columns, idf.astype(np.float32))

    @property
    def width(self) -> int:
        """The number of input columns."""
        return len(self.idf)

    def matrix(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Unit-normalised sublinear TF x IDF rows of ``texts`` (unknown n-grams dropped)."""
        return self.rows(GramCounts.of(texts, self.vocab))

    def rows(self, texts: GramCounts) -> sparse.csr_matrix:
        """Unit-normalised sublinear TF x IDF rows of counted texts."""
        counts = texts.counts
        ids = counts.indices
        cols = np.full(len(ids), -1, dtype=np.int64)
        inside = ids < len(self.columns)  # ids added to the vocabulary since: unknown
        cols[inside] = self.columns[ids[inside]]
        known = cols >= 0
        row_of = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))[known]
        values = ((1.0 + np.log(counts.data[known])) * self.idf[cols[known]]).astype(np.float32)
        norms = np.sqrt(np.bincount(row_of, weights=values * values, minlength=counts.shape[0]))
        values /= np.maximum(norms[row_of], 1e-12).astype(np.float32)
        return sparse.csr_matrix(
            (values, (row_of, cols[known])), shape=(counts.shape[0], self.width), dtype=np.float32
        )


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
    # Character n-grams (None: sentence vectors only), their weights (n-grams x
    # classes) and the scales of the two parts of the input.
    grams: Grams | None = None
    gram_weights: Floats | None = None
    scales: tuple[float, float] = (1.0, 0.0)
    known: dict[str, str] = field(init=False, repr=False, compare=False)
    # The last query's n-gram row: a query is scored by the head up to three
    # times (ranking, the adapter's ordering, the agreement check).
    _last: list[tuple[str, sparse.csr_matrix]] = field(
        init=False, repr=False, compare=False, default_factory=list
    )

    def __post_init__(self) -> None:
        versions = self.versions or ("",) * len(self.ids)
        object.__setattr__(self, "known", dict(zip(self.ids, versions, strict=True)))

    @property
    def grams_share(self) -> float:
        """The n-grams' share of the input it was trained with (0: sentence vectors only)."""
        dense, lexical = self.scales
        return lexical / dense if dense > 0 else 0.0

    def best(self, vector: Floats, text: str) -> str:
        """The entry id the head prefers for one query (its vector and text)."""
        return self.ids[int(np.argmax(self._logits(vector, [text])))]

    def probabilities(self, vectors: Floats, texts: Sequence[str] | GramCounts) -> Floats:
        """Class probabilities (rows x classes, in ``ids`` order) of queries (their
        vectors and texts, or the texts' n-gram counts)."""
        return softmax(self._logits(vectors, texts))

    def _logits(self, vectors: Floats, texts: Sequence[str] | GramCounts) -> Floats:
        dense, lexical = self.scales
        z = (SCALE * dense) * (np.atleast_2d(vectors) @ self.weights) + self.bias
        if self.grams is not None and self.gram_weights is not None:
            grams = (
                self.grams.rows(texts) if isinstance(texts, GramCounts) else self._grams_of(texts)
            )
            z = z + (SCALE * lexical) * np.asarray(grams @ self.gram_weights)
        out: Floats = z.astype(np.float32)
        return out

    def _grams_of(self, texts: Sequence[str]) -> sparse.csr_matrix:
        assert self.grams is not None
        if len(texts) != 1:
            return self.grams.matrix(texts)
        last = self._last[-1:]  # one read: another thread may replace it
        if last and last[0][0] == texts[0]:
            return last[0][1]
        row = self.grams.matrix(texts)
        self._last[:] = [(texts[0], row)]
        return row

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
    vectors: Floats,
    labels: Sequence[int],
    ids: Sequence[str],
    versions: Sequence[str] = (),
    texts: GramCounts | None = None,
    grams_share: float = 0.0,
) -> Head | None:
    """Fit the head on phrasing ``vectors`` (and, with a ``grams_share``, their
    ``texts``' character n-grams, one row per vector) labelled with entry positions
    in ``ids``; None when there is nothing to tell apart, too much work, or a bad
    fit."""
    y = np.asarray(labels, dtype=np.int64)
    classes = len(ids)
    if classes < 2 or len(y) == 0 or len(np.unique(y)) < 2:
        return None
    if len(y) * classes > MAX_WORK:
        logger.info("no classifier head: %d texts x %d entries over budget", len(y), classes)
        return None
    if grams_share > 0 and (texts is None or texts.counts.shape[0] != len(y)):
        raise ValueError("n-grams in the head need one text per vector")
    grams = Grams.learn(texts) if grams_share > 0 and texts is not None else None
    if grams is not None and grams.width * classes > GRAMS_MAX_WORK:
        logger.info("no n-grams in the head: %d n-grams x %d entries", grams.width, classes)
        grams = None
    dense_scale = 1.0 / float(np.sqrt(1.0 + grams_share**2)) if grams else 1.0
    lexical_scale = grams_share * dense_scale if grams else 0.0
    x = np.asarray(vectors, dtype=np.float32) * dense_scale
    t = grams.rows(texts) * lexical_scale if grams and texts is not None else None
    t_cols = t.T.tocsr() if t is not None else None
    gram_weights = np.zeros((grams.width, classes), dtype=np.float32) if grams else None
    onehot = np.zeros((len(y), classes), dtype=np.float32)
    onehot[np.arange(len(y)), y] = 1.0
    weights = np.zeros((x.shape[1], classes), dtype=np.float32)
    bias = np.zeros(classes, dtype=np.float32)

    # Plain full-batch gradient descent for a fixed number of steps: the early
    # stop is part of the regularisation (L-BFGS to convergence fitted the
    # phrasings more tightly and gated worse: hint3-curekart precision 0.890-0.898
    # against 0.904 with this).
    def logits() -> Floats:
        z = SCALE * (x @ weights) + bias
        if t is not None and gram_weights is not None:
            z += SCALE * np.asarray(t @ gram_weights)
        out: Floats = z.astype(np.float32, copy=False)
        return out

    for _ in range(STEPS):
        z = logits()
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        diff = (p - onehot) / len(y)
        weights -= RATE * (SCALE * (x.T @ diff) + L2 * weights)
        if t_cols is not None and gram_weights is not None:
            gram_weights *= 1.0 - RATE * L2
            gram_weights -= (RATE * SCALE) * np.asarray(t_cols @ diff, dtype=np.float32)
        bias -= RATE * diff.sum(axis=0)
    fit = float(np.mean(np.argmax(logits(), axis=1) == y))
    finite = np.all(np.isfinite(weights)) and (
        gram_weights is None or np.all(np.isfinite(gram_weights))
    )
    if not finite or fit < MIN_FIT_ACCURACY:
        logger.warning("classifier head dropped: fits its own phrasings at %.2f", fit)
        return None
    return Head(
        tuple(ids),
        np.ascontiguousarray(weights, dtype=np.float32),
        bias.astype(np.float32),
        tuple(versions),
        grams,
        None if gram_weights is None else np.ascontiguousarray(gram_weights, dtype=np.float32),
        (dense_scale, lexical_scale),
    )
