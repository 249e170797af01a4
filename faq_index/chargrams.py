"""Character n-gram TF-IDF cosine, one index per language.

Catches what word matching misses in any language: inflections the stemmer
does not join ("deniegan" / "denegada"), typos ("tarjta"), glued or split
words ("contactless" / "contact less"). An n-gram x text sparse matrix per language,
so a query touches only the rows of the n-grams it shares with the FAQ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from faq_index.features import (
    Bag,
    Ints,
    Stacked,
    Vocabulary,
    bags_matrix,
    by_lang,
    smooth_idf,
    widened,
)
from faq_index.text import char_grams

__all__ = ["CharIndex", "char_grams"]

Scores = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _LangGrams:
    df: npt.NDArray[np.int64]  # per vocabulary id, as the vocabulary was at build time
    idf: npt.NDArray[np.float64]
    matrix: sparse.csr_matrix  # n-grams x all texts, unit-normalised per text
    unknown: float


class CharIndex:
    """Cosine of sublinear-TF x IDF character n-gram vectors, per language."""

    def __init__(
        self, counts: sparse.csr_matrix, groups: Mapping[str, Ints], vocab: Vocabulary
    ) -> None:
        """Index texts from their texts x ``vocab`` n-gram counts; ``groups``: the
        positions of each language's texts (texts in none are left out)."""
        self._size = counts.shape[0]
        self._vocab = vocab
        counts = widened(counts, len(vocab))
        self._langs = {lang: _build(counts, idxs) for lang, idxs in groups.items()}

    @classmethod
    def from_texts(cls, texts: Sequence[str], langs: Sequence[str | None]) -> CharIndex:
        """Index ``texts``, each in its language; a None language leaves a text out."""
        vocab = Vocabulary()
        bags = [Bag.of(char_grams(t), vocab) for t in texts]
        return cls(bags_matrix(bags, len(vocab)), by_lang(langs), vocab)

    def score(self, text: str, lang: str, *, exclude: int | None = None) -> Scores:
        """Cosine in [0, 1] of ``text`` with every indexed text of ``lang`` (0 elsewhere);
        ``exclude`` zeroes one text (a held-out text asked as a query)."""
        index = self._langs.get(lang)
        if index is None:
            return np.zeros(self._size, dtype=np.float32)
        grams = char_grams(text)
        n_ids = len(index.df)
        ids = np.fromiter(
            (-1 if (i := self._vocab.get(g)) is None or i >= n_ids else i for g in grams),
            dtype=np.int64,
            count=len(grams),
        )
        counts = np.fromiter(grams.values(), dtype=np.float64, count=len(grams))
        known = ids >= 0
        known[known] = index.df[ids[known]] > 0
        if not known.any():
            return np.zeros(self._size, dtype=np.float32)
        idf = np.full(len(ids), index.unknown)
        idf[known] = index.idf[ids[known]]
        weights = (1.0 + np.log(counts)) * idf
        norm = math.sqrt(float(weights @ weights))
        w = (weights[known] / norm).astype(np.float32)
        out = np.asarray(index.matrix[ids[known]].T @ w, dtype=np.float32).ravel()
        if exclude is not None:
            out[exclude] = 0.0
        return np.clip(out, 0.0, 1.0, out=out)


def _build(counts: sparse.csr_matrix, idxs: Ints) -> _LangGrams:
    """The unit-normalised TF-IDF matrix of one language's texts (at positions ``idxs``)."""
    size, n_ids = counts.shape
    stacked = Stacked.of(counts, idxs)
    n = len(idxs)
    df = np.bincount(stacked.ids, minlength=n_ids).astype(np.int64)
    idf = smooth_idf(n, df)
    weights = (1.0 + np.log(stacked.counts)) * idf[stacked.ids]
    norms = np.sqrt(stacked.per_doc(weights * weights))
    norms[norms == 0] = 1.0
    values = weights / norms[stacked.doc]
    return _LangGrams(df, idf, stacked.matrix(values, n_ids, size), math.log(1 + n) + 1.0)
