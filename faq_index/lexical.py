"""BM25 over short FAQ texts, one inverted index per language, scores scaled to [0, 1]."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from faq_index.text import analyzer

K1 = 1.2
B = 0.75
# A term found in at most ~a third of a language's texts says something about
# the question (idf(n, n/3) ~ 1.1); commoner terms ("card" in a card FAQ) do not.
INFORMATIVE_IDF = 1.1

Scores = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Postings:
    docs: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float32]


class LexicalIndex:
    """Per-language BM25; a text's score is the IDF mass of the query it matches,
    each term weighted by BM25 saturation, over the query's total IDF (unknown words
    count as rare), so 1.0 means every query word matched strongly."""

    def __init__(self, tokens: Sequence[list[str]], langs: Sequence[str], size: int) -> None:
        self._size = size
        self._n: dict[str, int] = {}
        self._idf: dict[str, dict[str, float]] = {}
        self._postings: dict[str, dict[str, _Postings]] = {}
        by_lang: dict[str, list[int]] = defaultdict(list)
        for idx, lang in enumerate(langs):
            by_lang[lang].append(idx)
        for lang, idxs in by_lang.items():
            self._build_lang(lang, idxs, tokens)

    @classmethod
    def from_texts(cls, texts: Sequence[str], langs: Sequence[str]) -> LexicalIndex:
        """Analyze ``texts`` (each in its language) and index them."""
        return cls(
            [analyzer(lang)(t) for t, lang in zip(texts, langs, strict=True)], langs, len(texts)
        )

    def _build_lang(self, lang: str, idxs: list[int], tokens: Sequence[list[str]]) -> None:
        n = len(idxs)
        avgdl = max(1.0, sum(len(tokens[i]) for i in idxs) / max(n, 1))
        df: Counter[str] = Counter()
        for i in idxs:
            df.update(set(tokens[i]))
        idf = {t: _idf(n, d) for t, d in df.items()}
        lists: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for i in idxs:
            counts = Counter(tokens[i])
            norm = K1 * (1 - B + B * len(tokens[i]) / avgdl)
            for term, tf in counts.items():
                docs, weights = lists[term]
                docs.append(i)
                weights.append(idf[term] * tf / (tf + norm))
        self._n[lang] = n
        self._idf[lang] = idf
        self._postings[lang] = {
            t: _Postings(np.asarray(d, dtype=np.int64), np.asarray(w, dtype=np.float32))
            for t, (d, w) in lists.items()
        }

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with at least one indexed text."""
        return tuple(self._n)

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
        postings = self._postings.get(lang)
        if not postings or not terms:
            return out, hits
        n = self._n[lang]
        idf = self._idf[lang]
        unknown = _idf(n, 0)
        total = 0.0
        for term in terms:
            plist = postings.get(term)
            if plist is None:
                total += unknown
                continue
            if exclude is not None and len(plist.docs) == 1 and plist.docs[0] == exclude:
                total += unknown  # only the held-out text has it: unknown to the rest
                continue
            total += idf[term]
            out[plist.docs] += plist.weights
            if idf[term] >= INFORMATIVE_IDF:
                hits[plist.docs] += 1.0
        if exclude is not None:
            out[exclude] = 0.0
            hits[exclude] = 0.0
        if total > 0:
            out /= total
        return out, hits


def _idf(n: int, df: int) -> float:
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
