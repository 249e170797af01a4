"""Calibration on the index's own texts: how to fuse the signals and how far to trust them.

At build time each sampled question or paraphrase is asked as a query twice:
with only that text hidden (its entry should still win: a positive or a
mistake) and with its whole entry hidden (any answer is wrong: a stand-in for
an out-of-scope question that is close to the FAQ's domain). From these we
pick the dense/lexical fusion weight that ranks best, per language when a
language has enough texts, and fit a logistic model that turns a match's
(fused score, margin over the best other entry, lexical overlap) into the
probability that it is the right answer.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from faq_index.corpus import Corpus, Floats

logger = logging.getLogger(__name__)

MAX_SAMPLES = 800
MIN_LANG_SAMPLES = 40
ALPHAS = tuple(round(0.1 * i, 1) for i in range(11))
ROWS_PER_QUERY = 3
_CANDIDATES = 16
# The prior counts as this many observations: small FAQs stay near it, large
# ones learn their own model.
_PRIOR_WEIGHT = 50.0
_CHUNK = 64

# Used when the FAQ has too few paraphrases to learn from (and as the ridge
# prior otherwise): fitted on BANKING77 dev paraphrases with all-MiniLM-L6-v2.
DEFAULT_ALPHA = 0.8
DEFAULT_COEF = (-6.9, 8.3, 18.5, -0.4)


@dataclass(frozen=True)
class LangParams:
    """Fusion weight and confidence model for one language."""

    alpha: float
    coef: tuple[float, ...]
    samples: int = 0

    def fuse(self, dense: Floats, lexical: Floats) -> Floats:
        """Fused score: alpha * dense + (1 - alpha) * lexical."""
        return (self.alpha * dense + (1 - self.alpha) * lexical).astype(np.float32)

    def confidence(self, fused: Floats, margin: Floats, lexical: Floats) -> Floats:
        """Calibrated probability that each match is the right answer."""
        x = np.stack([np.ones_like(fused), fused, margin, lexical], axis=1)
        return _sigmoid(x @ np.asarray(self.coef, dtype=np.float64)).astype(np.float32)

    def plausibility(self, fused: Floats, lexical: Floats) -> Floats:
        """Confidence each match would have if no other entry came close (zero margin)."""
        return self.confidence(fused, np.zeros_like(fused), lexical)


DEFAULT_PARAMS = LangParams(DEFAULT_ALPHA, DEFAULT_COEF)


@dataclass(frozen=True)
class Calibration:
    """Per-language parameters with a pooled fallback."""

    pooled: LangParams = DEFAULT_PARAMS
    by_lang: dict[str, LangParams] = field(default_factory=dict)

    def params(self, lang: str) -> LangParams:
        """The parameters for queries in ``lang``."""
        return self.by_lang.get(lang, self.pooled)


@dataclass
class _Sample:
    lang: str
    target: int
    entries: npt.NDArray[np.int64]
    dense: Floats
    lexical: Floats


def calibrate(corpus: Corpus) -> Calibration:
    """Learn fusion weights and confidence models from the corpus's own texts."""
    samples = _collect(corpus)
    if not samples:
        return Calibration()
    pooled = _fit(samples, DEFAULT_PARAMS)
    by_lang: dict[str, list[_Sample]] = defaultdict(list)
    for s in samples:
        by_lang[s.lang].append(s)
    langs = {
        lang: _fit(items, pooled)
        for lang, items in by_lang.items()
        if len(items) >= MIN_LANG_SAMPLES and len(by_lang) > 1
    }
    logger.debug("calibration pooled=%s by_lang=%s", pooled, langs)
    return Calibration(pooled, langs)


def _held_out(corpus: Corpus) -> list[int]:
    """Questions and paraphrases whose entry has another one: a fixed pseudo-random sample."""
    sizes = np.bincount(
        corpus.text_group[corpus.text_group >= 0], minlength=len(corpus.group_entry)
    )
    per_entry = np.bincount(corpus.group_entry, weights=sizes, minlength=corpus.n_entries)
    idxs = [
        i for i, row in enumerate(corpus.rows) if row.kind != "answer" and per_entry[row.entry] >= 2
    ]
    idxs.sort(key=lambda i: hashlib.sha1(corpus.rows[i].text.encode()).digest())
    return sorted(idxs[:MAX_SAMPLES])


def _collect(corpus: Corpus) -> list[_Sample]:
    held = _held_out(corpus)
    samples: list[_Sample] = []
    for start in range(0, len(held), _CHUNK):
        chunk = held[start : start + _CHUNK]
        text_sims = corpus.vectors[chunk] @ corpus.vectors.T
        group_sims = corpus.vectors[chunk] @ corpus.centroids.T
        for row, h in enumerate(chunk):
            samples.append(_one(corpus, h, text_sims[row], group_sims[row]))
    return samples


def _one(corpus: Corpus, h: int, text_sims: Floats, group_sims: Floats) -> _Sample:
    text_sims = text_sims * corpus.weights
    text_sims[h] = -np.inf
    best = corpus.per_entry(text_sims)
    g = corpus.text_group[h]
    group_sims = group_sims.copy()
    rest = corpus.group_size[g] - 1
    if rest > 0:
        remaining = corpus.group_sum[g] - corpus.vectors[h]
        norm = float(np.linalg.norm(remaining))
        group_sims[g] = float(remaining @ corpus.vectors[h]) / max(norm, 1e-12)
    else:
        group_sims[g] = -np.inf
    cent = corpus.centroid_per_entry(group_sims, best)
    cent = np.where(np.isfinite(cent), cent, best)
    dense = corpus.blend(best, cent)
    row = corpus.rows[h]
    terms = corpus.lexical.query_terms(row.text, row.lang)
    lex = corpus.per_entry(corpus.lexical_texts(terms, row.lang, exclude=h))
    k = min(_CANDIDATES, corpus.n_entries)
    pool = set(np.argpartition(-dense, k - 1)[:k].tolist())
    pool.update(np.argpartition(-lex, k - 1)[:k].tolist())
    pool.add(row.entry)
    entries = np.fromiter(sorted(pool), dtype=np.int64)
    target = int(np.searchsorted(entries, row.entry))
    return _Sample(row.lang, target, entries, dense[entries], lex[entries])


def _features(
    fused: Floats, lexical: Floats, drop: int | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Feature rows (1, fused, margin, lexical) of the top matches, best first."""
    keep = np.ones(len(fused), dtype=bool)
    if drop is not None:
        keep[drop] = False
    idx = np.flatnonzero(keep)
    order = idx[np.argsort(-fused[idx], kind="stable")][: ROWS_PER_QUERY + 1]
    top = order[:ROWS_PER_QUERY]
    margins = top_margins(fused[order])[: len(top)]
    x = np.stack([np.ones(len(top)), fused[top], margins, lexical[top]], axis=1)
    return x.astype(np.float64), top


def top_margins(ranked: Floats) -> Floats:
    """Margins of ranked scores: the best over the runner-up, the others under the best."""
    if len(ranked) == 0:
        return np.zeros(0, dtype=np.float32)
    margins = (ranked - ranked[0]).astype(np.float32)
    margins[0] = ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0)
    return margins


def _fit(samples: list[_Sample], prior: LangParams) -> LangParams:
    alpha = _best_alpha(samples)
    rows: list[npt.NDArray[np.float64]] = []
    labels: list[npt.NDArray[np.float64]] = []
    for s in samples:
        fused = alpha * s.dense + (1 - alpha) * s.lexical
        x, top = _features(fused, s.lexical, None)
        rows.append(x)
        labels.append((top == s.target).astype(np.float64))
        x, _ = _features(fused, s.lexical, s.target)  # entry hidden: all wrong
        rows.append(x)
        labels.append(np.zeros(len(x)))
    coef = _logistic(np.concatenate(rows), np.concatenate(labels), np.asarray(prior.coef))
    return LangParams(alpha, tuple(float(c) for c in coef), len(samples))


def _best_alpha(samples: list[_Sample]) -> float:
    if len(samples) < MIN_LANG_SAMPLES:
        return DEFAULT_ALPHA  # too few to tell the signals apart reliably
    best, best_mrr = DEFAULT_ALPHA, -1.0
    for alpha in ALPHAS:
        mrr = 0.0
        for s in samples:
            fused = alpha * s.dense + (1 - alpha) * s.lexical
            mrr += 1.0 / (1 + int(np.sum(fused > fused[s.target])))
        # Ties go to the alpha closest to the default (stable across small edits).
        better = mrr > best_mrr + 1e-9 or (
            abs(mrr - best_mrr) <= 1e-9 and abs(alpha - DEFAULT_ALPHA) < abs(best - DEFAULT_ALPHA)
        )
        if better:
            best, best_mrr = alpha, mrr
    return best


def _logistic(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    prior: npt.NDArray[np.float64],
    iterations: int = 50,
) -> npt.NDArray[np.float64]:
    """Logistic regression (Newton) with a Gaussian prior centred on ``prior``."""
    w = prior.astype(np.float64).copy()
    penalty = np.full(len(w), _PRIOR_WEIGHT / max(len(y), 1))
    for _ in range(iterations):
        p = _sigmoid(x @ w)
        grad = x.T @ (p - y) / len(y) + penalty * (w - prior)
        hess = (x.T * (p * (1 - p))) @ x / len(y) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-6:
            break
    return w


def _sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
