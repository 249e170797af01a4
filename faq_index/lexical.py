"""BM25 over short FAQ texts, one inverted index per language, scores scaled to [0, 1]."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from faq_index.features import Bag, Ints, Stacked, Vocabulary, bags_matrix, by_lang, widened
from faq_index.text import analyzer

K1 = 1.2
B = 0.75
# A term found in at most ~a third of a language's texts says something about
# the question (idf(n, n/3) ~ 1.1); commoner terms ("card" in a card FAQ) do not.
INFORMATIVE_IDF = 1.1

Scores = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Lang:
    unknown: float  # the IDF of a term no text has
    df: npt.NDArray[np.int64]  # per vocabulary id, as the vocabulary was at build time
    idf: npt.NDArray[np.float64]
    postings: sparse.csr_matrix  # terms x all texts: BM25 weight of each term in each text


class LexicalIndex:
    """Per-language BM25; a text's score is the IDF mass of the query it matches,
    each term weighted by BM25 saturation, over the query's total IDF (unknown words
    count as rare), so 1.0 means every query word matched strongly."""

    def __init__(
        self, counts: sparse.csr_matrix, groups: Mapping[str, Ints], vocab: Vocabulary
    ) -> None:
        """Index texts from their texts x ``vocab`` term counts; ``groups``: the
        positions of each language's texts."""
        self._size = counts.shape[0]
        self._vocab = vocab
        counts = widened(counts, len(vocab))
        self._langs = {lang: _build(counts, idxs) for lang, idxs in groups.items()}

    @classmethod
    def from_texts(cls, texts: Sequence[str], langs: Sequence[str]) -> LexicalIndex:
        """Analyze ``texts`` (each in its language) and index them."""
        vocab = Vocabulary()
        bags = [
            Bag.of(Counter(analyzer(lang)(t)), vocab) for t, lang in zip(texts, langs, strict=True)
        ]
        return cls(bags_matrix(bags, len(vocab)), by_lang(langs), vocab)

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with at least one indexed text."""
        return tuple(self._langs)

    def query_terms(self, text: str, lang: str) -> list[str]:
        """The distinct analyzed terms of a query."""
        return list(dict.fromkeys(analyzer(lang)(text)))

    def score(self, text: str, lang: str) -> Scores:
        """Scores in [0, 1] of every indexed text against ``text`` (0 for other languages)."""
        return self.score_terms(self.query_terms(text, lang), lang)

    def score_terms(self, terms: list[str], lang: str, *, exclude: int | None = None) -> Scores:
        """Score analyzed query terms; ``exclude`` drops one text from the statistics
        (used when a text itself is asked as a query, as if it were not indexed)."""
        return self.match(terms, lang, exclude=exclude)[0]

    def match(
        self, terms: list[str], lang: str, *, exclude: int | None = None
    ) -> tuple[Scores, Scores]:
        """(scores, hits): the scores of :meth:`score_terms` and, per text, how many
        informative query terms (IDF at least ``INFORMATIVE_IDF``) it contains."""
        out = np.zeros(self._size, dtype=np.float32)
        hits = np.zeros(self._size, dtype=np.float32)
        index = self._langs.get(lang)
        if index is None or not terms:
            return out, hits
        found, total = self._found(index, terms, exclude)
        indices, data = index.postings.indices, index.postings.data
        for idf, lo, hi in found:
            docs = indices[lo:hi]
            out[docs] += data[lo:hi]
            if idf >= INFORMATIVE_IDF:
                hits[docs] += 1.0
        if exclude is not None:
            out[exclude] = 0.0
            hits[exclude] = 0.0
        if total > 0:
            out /= total
        return out, hits

    def _found(
        self, index: _Lang, terms: list[str], exclude: int | None
    ) -> tuple[list[tuple[float, int, int]], float]:
        """The query's terms in ``index``: (idf, start, end) of each one's postings, and
        the IDF mass of the whole query. A term no text has, or only ``exclude`` has,
        counts with the index's IDF of an unknown term."""
        indptr, indices = index.postings.indptr, index.postings.indices
        found: list[tuple[float, int, int]] = []
        total = 0.0
        for term in terms:
            tid = self._vocab.get(term)
            if tid is None or tid >= len(index.df) or index.df[tid] == 0:
                total += index.unknown
                continue
            lo, hi = int(indptr[tid]), int(indptr[tid + 1])
            if exclude is not None and hi - lo == 1 and indices[lo] == exclude:
                total += index.unknown  # only the held-out text has it: unknown to the rest
                continue
            idf = float(index.idf[tid])
            total += idf
            found.append((idf, lo, hi))
        return found, total

    def explained(
        self, terms: list[str], lang: str, owner: Ints, n_owners: int, exclude: int | None = None
    ) -> Scores:
        """Per owner (``owner[i]``: the owner of text ``i``, e.g. its entry): the share
        of the query's IDF mass found in any of its texts (answers too): how much of
        the question the entry as a whole explains. ``exclude``: as in :meth:`match`."""
        out = np.zeros(n_owners, dtype=np.float32)
        index = self._langs.get(lang)
        if index is None or not terms:
            return out
        found, total = self._found(index, terms, exclude)
        indices = index.postings.indices
        for idf, lo, hi in found:
            docs = indices[lo:hi]
            if exclude is not None:
                docs = docs[docs != exclude]
            out[np.unique(owner[docs])] += idf
        if total > 0:
            out /= total
        return out


def _build(counts: sparse.csr_matrix, idxs: Ints) -> _Lang:
    """The BM25 postings of one language's texts (at corpus positions ``idxs``)."""
    size, n_ids = counts.shape
    stacked = Stacked.of(counts, idxs)
    n = len(idxs)
    lengths = stacked.per_doc(stacked.counts)
    avgdl = max(1.0, float(lengths.sum()) / max(n, 1))
    df = np.bincount(stacked.ids, minlength=n_ids).astype(np.int64)
    idf = _idf(n, df)
    norm = K1 * (1 - B + B * lengths / avgdl)
    tf = stacked.counts
    weights = idf[stacked.ids] * tf / (tf + norm[stacked.doc])
    unknown = float(_idf(n, np.zeros(1, dtype=np.int64))[0])
    return _Lang(unknown, df, idf, stacked.matrix(weights, n_ids, size))


def _idf(n: int, df: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """BM25 IDF of terms found in ``df`` of ``n`` texts (never negative)."""
    return np.log1p((n - df + 0.5) / (df + 0.5))
