"""Per-text lexical features as integer bags over shared vocabularies.

A text's analyzed words and character n-grams are computed once, as arrays of
vocabulary ids and counts, and reused by every index derived from the one that
first saw the text: a live edit analyzes only the changed texts, and the BM25
and n-gram matrices are assembled from the bags with a few vectorised numpy
and scipy operations instead of Python loops over the whole corpus.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy import sparse

from faq_index.text import analyzer, char_grams

Ints = npt.NDArray[np.int64]
Floats64 = npt.NDArray[np.float64]


class HasText(Protocol):
    """A text in a language (a corpus row)."""

    @property
    def lang(self) -> str:
        """The text's language."""

    @property
    def text(self) -> str:
        """The text."""


class Vocabulary:
    """An append-only string -> id map, shared by an index and those derived from it.

    Ids never change, so an index built earlier keeps working while a later one
    adds strings (it treats ids beyond its own statistics as unknown).
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, item: str) -> int | None:
        """The id of ``item``, or None (never adds: queries must not grow it)."""
        return self._ids.get(item)

    def add(self, items: Iterable[str]) -> list[int]:
        """The ids of ``items``, adding the new ones."""
        out: list[int] = []
        with self._lock:
            ids = self._ids
            for item in items:
                i = ids.get(item)
                if i is None:
                    i = ids[item] = len(ids)
                out.append(i)
        return out


@dataclass(frozen=True)
class Bag:
    """Distinct vocabulary ids of one text and how often each occurs."""

    ids: Ints
    counts: Floats64

    @classmethod
    def of(cls, counts: Counter[str], vocab: Vocabulary) -> Bag:
        """The bag of ``counts`` (string -> occurrences) under ``vocab``."""
        return cls(
            np.asarray(vocab.add(counts.keys()), dtype=np.int64),
            np.fromiter(counts.values(), dtype=np.float64, count=len(counts)),
        )

    @classmethod
    def of_known(cls, counts: Counter[str], vocab: Vocabulary) -> Bag:
        """The bag of the strings of ``counts`` that ``vocab`` has (it is not grown)."""
        pairs = [(i, c) for s, c in counts.items() if (i := vocab.get(s)) is not None]
        return cls(
            np.fromiter((i for i, _ in pairs), dtype=np.int64, count=len(pairs)),
            np.fromiter((c for _, c in pairs), dtype=np.float64, count=len(pairs)),
        )


def smooth_idf(n: int, df: Ints) -> Floats64:
    """IDF of terms found in ``df`` of ``n`` texts, smoothed: log((1 + n) / (1 + df)) + 1."""
    out: Floats64 = np.log((1 + n) / (1 + df)) + 1.0
    return out


def bags_matrix(bags: Sequence[Bag], n_ids: int) -> sparse.csr_matrix:
    """A texts x vocabulary matrix of counts, one row per bag."""
    sizes = np.fromiter((len(b.ids) for b in bags), dtype=np.int64, count=len(bags))
    indptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    if not bags or not indptr[-1]:
        empty = np.zeros(0, dtype=np.int64)
        return sparse.csr_matrix((np.zeros(0), empty, indptr), shape=(len(bags), n_ids))
    indices = np.concatenate([b.ids for b in bags])
    data = np.concatenate([b.counts for b in bags])
    return sparse.csr_matrix((data, indices, indptr), shape=(len(bags), n_ids))


def widened(matrix: sparse.csr_matrix, n_ids: int) -> sparse.csr_matrix:
    """``matrix`` with ``n_ids`` columns (ids added to the vocabulary since it was built)."""
    return sparse.csr_matrix(
        (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], n_ids)
    )


@dataclass(frozen=True)
class Features:
    """Word and character n-gram counts of a corpus's texts (texts x vocabulary)."""

    terms: sparse.csr_matrix
    grams: sparse.csr_matrix


class FeatureSpace:
    """Word and n-gram vocabularies shared by an index and those derived from it."""

    def __init__(self) -> None:
        self.terms = Vocabulary()
        self.grams = Vocabulary()

    def analyze(self, texts: Sequence[tuple[str, str]]) -> Features:
        """Analyze (lang, text) pairs: their words and character n-grams."""
        terms: list[Bag] = []
        grams: list[Bag] = []
        for lang, text in texts:
            terms.append(Bag.of(Counter(analyzer(lang)(text)), self.terms))
            grams.append(Bag.of(char_grams(text), self.grams))
        return Features(bags_matrix(terms, len(self.terms)), bags_matrix(grams, len(self.grams)))

    def derive(self, old: Features, src: Ints, rows: Sequence[HasText]) -> Features:
        """Features of ``rows``: row ``src[i]`` of ``old`` (same space) where
        ``src[i] >= 0``, freshly analyzed where it is -1."""
        kept, new = np.flatnonzero(src >= 0), np.flatnonzero(src < 0)
        fresh = self.analyze([(rows[int(i)].lang, rows[int(i)].text) for i in new])
        order = np.empty(len(src), dtype=np.int64)
        order[kept] = np.arange(len(kept))
        order[new] = len(kept) + np.arange(len(new))

        def merge(a: sparse.csr_matrix, b: sparse.csr_matrix, n_ids: int) -> sparse.csr_matrix:
            stacked = sparse.vstack([widened(a[src[kept]], n_ids), widened(b, n_ids)], "csr")
            return stacked[order]

        return Features(
            merge(old.terms, fresh.terms, len(self.terms)),
            merge(old.grams, fresh.grams, len(self.grams)),
        )


@dataclass(frozen=True)
class Stacked:
    """The counts of some texts laid end to end: ``doc`` is each id's position in
    ``docs`` (the texts' corpus positions)."""

    docs: Ints
    ids: Ints
    counts: Floats64
    doc: Ints

    @classmethod
    def of(cls, counts: sparse.csr_matrix, docs: Ints) -> Stacked:
        """The rows ``docs`` of a texts x vocabulary count matrix."""
        rows = counts[docs]
        doc = np.repeat(np.arange(len(docs), dtype=np.int64), np.diff(rows.indptr))
        return cls(
            docs, rows.indices.astype(np.int64), rows.data.astype(np.float64, copy=False), doc
        )

    def per_doc(self, values: Floats64) -> Floats64:
        """Sum ``values`` (aligned with ``ids``) per text."""
        return np.bincount(self.doc, weights=values, minlength=len(self.docs)).astype(np.float64)

    def matrix(self, values: Floats64, n_ids: int, size: int) -> sparse.csr_matrix:
        """An ids x corpus-texts matrix holding ``values``."""
        return sparse.csr_matrix(
            (values.astype(np.float32), (self.ids, self.docs[self.doc])), shape=(n_ids, size)
        )


def by_lang(langs: Sequence[str | None]) -> dict[str, Ints]:
    """Corpus positions of the texts of each language (None: left out)."""
    named = [lang for lang in dict.fromkeys(langs) if lang is not None]
    codes: dict[str | None, int] = {lang: i for i, lang in enumerate(named)}
    ids = np.fromiter((codes.get(lang, -1) for lang in langs), dtype=np.int64, count=len(langs))
    return {lang: np.flatnonzero(ids == i) for i, lang in enumerate(named)}
