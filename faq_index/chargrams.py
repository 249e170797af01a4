"""Character n-gram TF-IDF cosine, one index per language.

Catches what word matching misses in any language: inflections the stemmer
does not join ("deniegan" / "denegada"), typos ("tarjta"), glued or split
words ("contactless" / "contact less"). An n-gram x text sparse matrix per language,
so a query touches only the rows of the n-grams it shares with the FAQ.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from faq_index.text import fold

MIN_N = 3
MAX_N = 5

Scores = npt.NDArray[np.float32]


def char_grams(text: str) -> Counter[str]:
    """Counts of the 3..5-character n-grams of each folded word, padded with spaces."""
    grams: Counter[str] = Counter()
    for word in "".join(ch if ch.isalnum() else " " for ch in fold(text)).split():
        padded = f" {word} "
        for n in range(MIN_N, MAX_N + 1):
            grams.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


@dataclass(frozen=True)
class _LangGrams:
    idf: dict[str, float]
    rows: dict[str, int]
    matrix: sparse.csr_matrix  # n-grams x all texts, unit-normalised per text
    unknown: float


class CharIndex:
    """Cosine of sublinear-TF x IDF character n-gram vectors, per language."""

    def __init__(self, texts: Sequence[str], langs: Sequence[str | None]) -> None:
        """Index ``texts``, each in its language; a None language leaves a text out."""
        self._size = len(texts)
        self._langs: dict[str, _LangGrams] = {}
        by_lang: dict[str, list[int]] = defaultdict(list)
        for idx, lang in enumerate(langs):
            if lang is not None:
                by_lang[lang].append(idx)
        for lang, idxs in by_lang.items():
            self._langs[lang] = self._build_lang(idxs, texts)

    def _build_lang(self, idxs: list[int], texts: Sequence[str]) -> _LangGrams:
        counts = {i: char_grams(texts[i]) for i in idxs}
        df: Counter[str] = Counter()
        for grams in counts.values():
            df.update(grams.keys())
        n = len(idxs)
        idf = {g: math.log((1 + n) / (1 + d)) + 1.0 for g, d in df.items()}
        rows = {g: r for r, g in enumerate(df)}
        row_ids: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, grams in counts.items():
            weights = {g: (1.0 + math.log(c)) * idf[g] for g, c in grams.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for g, w in weights.items():
                row_ids.append(rows[g])
                cols.append(i)
                vals.append(w / norm)
        matrix = sparse.csr_matrix(
            (np.asarray(vals, dtype=np.float32), (row_ids, cols)),
            shape=(len(rows), self._size),
        )
        return _LangGrams(idf, rows, matrix, math.log(1 + n) + 1.0)

    def score(self, text: str, lang: str, *, exclude: int | None = None) -> Scores:
        """Cosine in [0, 1] of ``text`` with every indexed text of ``lang`` (0 elsewhere);
        ``exclude`` zeroes one text (a held-out text asked as a query)."""
        index = self._langs.get(lang)
        if index is None:
            return np.zeros(self._size, dtype=np.float32)
        grams = char_grams(text)
        idf, unknown = index.idf, index.unknown
        weights = {g: (1.0 + math.log(c)) * idf.get(g, unknown) for g, c in grams.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        known = [(index.rows[g], w / norm) for g, w in weights.items() if g in index.rows]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        ids = np.fromiter((r for r, _ in known), dtype=np.int64, count=len(known))
        w = np.fromiter((v for _, v in known), dtype=np.float32, count=len(known))
        out = np.asarray(index.matrix[ids].T @ w, dtype=np.float32).ravel()
        if exclude is not None:
            out[exclude] = 0.0
        return np.clip(out, 0.0, 1.0, out=out)
