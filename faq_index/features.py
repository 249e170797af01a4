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

import numpy as np
import numpy.typing as npt
from scipy import sparse

from faq_index.text import analyzer, char_grams

Ints = npt.NDArray[np.int64]
Floats64 = npt.NDArray[np.float64]


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


@dataclass(frozen=True)
class TextFeatures:
    """The analyzed words and the character n-grams of one text."""

    terms: Bag
    grams: Bag


class FeatureSpace:
    """Word and n-gram vocabularies, and the features of texts seen so far."""

    def __init__(self) -> None:
        self.terms = Vocabulary()
        self.grams = Vocabulary()

    def features(self, text: str, lang: str) -> TextFeatures:
        """Analyze one text in its language."""
        return TextFeatures(
            Bag.of(Counter(analyzer(lang)(text)), self.terms),
            Bag.of(char_grams(text), self.grams),
        )

    def all_features(
        self,
        texts: Sequence[tuple[str, str]],
        known: dict[tuple[str, str], TextFeatures] | None = None,
    ) -> list[TextFeatures]:
        """Features of (lang, text) pairs, reusing ``known`` ones (same space only)."""
        known = known or {}
        out: list[TextFeatures] = []
        for lang, text in texts:
            feats = known.get((lang, text))
            out.append(feats if feats is not None else self.features(text, lang))
        return out


@dataclass(frozen=True)
class Stacked:
    """The bags of some texts laid end to end: ``doc`` is each id's position in
    ``docs`` (the texts' corpus positions)."""

    docs: Ints
    ids: Ints
    counts: Floats64
    doc: Ints

    @classmethod
    def of(cls, bags: Sequence[Bag], docs: Ints) -> Stacked:
        """Stack the bags of the texts at ``docs``."""
        chosen = [bags[int(i)] for i in docs]
        sizes = np.fromiter((len(b.ids) for b in chosen), dtype=np.int64, count=len(chosen))
        if not chosen or not sizes.sum():
            empty = np.zeros(0, dtype=np.int64)
            return cls(docs, empty, np.zeros(0, dtype=np.float64), empty)
        return cls(
            docs,
            np.concatenate([b.ids for b in chosen]),
            np.concatenate([b.counts for b in chosen]),
            np.repeat(np.arange(len(chosen), dtype=np.int64), sizes),
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
    groups: dict[str, list[int]] = {}
    for i, lang in enumerate(langs):
        if lang is not None:
            groups.setdefault(lang, []).append(i)
    return {lang: np.asarray(idxs, dtype=np.int64) for lang, idxs in groups.items()}
