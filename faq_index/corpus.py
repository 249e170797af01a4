"""The searchable texts of an index: vectors, lexical postings, and exact entry scores.

Every entry owns a contiguous run of texts (questions, paraphrases, answers, in
all its languages); an entry's score on a signal is the max over its texts.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import faiss
import numpy as np
import numpy.typing as npt
from scipy import sparse

from faq_index.chargrams import CharIndex
from faq_index.encoders import Vectors
from faq_index.entries import FaqEntry, TextKind
from faq_index.features import Features, FeatureSpace, by_lang
from faq_index.lexical import LexicalIndex
from faq_index.nearest import NearestTexts

# An entry's dense score blends its best single text with the centroid of its
# questions and paraphrases (per language): the nearest text is precise, the
# centroid is robust to one odd paraphrase. Measured on BANKING77 (dev) LOO and
# test: the blend beats either alone by 2-3 points of top-1.
CENTROID_BLEND = 0.5

# Answers are long and written for another purpose: they may support a match
# but should not win against a question or paraphrase saying the same thing.
ANSWER_WEIGHT = 0.85

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]
Embed = Callable[[list[str]], Vectors]


# Up to this many texts the nearest-text search is an exact flat scan (~1 ms per
# 8,000 texts here); above it, an HNSW graph (~0.2 ms at 80,000 texts instead of
# ~13 ms; ~12 s more to build). Approximate is enough: the texts it finds only
# widen the candidate pool next to the exact centroid, BM25 and n-gram ones,
# and every candidate is rescored exactly.
HNSW_ABOVE = 20_000
HNSW_NEIGHBOURS = 16
HNSW_EF_BUILD = 40
HNSW_EF_SEARCH = 128


def _text_index(vectors: Floats) -> faiss.Index:
    """An inner-product index over the text vectors: flat, or HNSW for large corpora."""
    dim = vectors.shape[1]
    index: faiss.Index
    if len(vectors) <= HNSW_ABOVE:
        index = faiss.IndexFlatIP(dim)
    else:
        graph = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_BUILD
        graph.hnsw.efSearch = HNSW_EF_SEARCH
        index = graph
    if len(vectors):
        index.add(vectors)
    return index


@dataclass(frozen=True)
class Signals:
    """Per-entry evidence for one query: ``entries`` and, aligned with them, the dense
    score, BM25 share, character n-gram cosine and informative words matched."""

    entries: Ints
    dense: Floats
    lexical: Floats
    chars: Floats
    hits: Floats
    # Share of the question's IDF mass found anywhere in the entry (None: not computed).
    explained: Floats | None = None

    def take(self, idx: Ints) -> Signals:
        """The signals of a subset (by position)."""
        return Signals(
            self.entries[idx],
            self.dense[idx],
            self.lexical[idx],
            self.chars[idx],
            self.hits[idx],
            None if self.explained is None else self.explained[idx],
        )


@dataclass(frozen=True)
class TextRow:
    """One searchable text of an entry."""

    entry: int
    lang: str
    kind: TextKind
    text: str


def text_rows(entries: Sequence[FaqEntry]) -> list[TextRow]:
    """Every searchable text of ``entries``, grouped by entry in order."""
    return [
        TextRow(i, lang, kind, text)
        for i, entry in enumerate(entries)
        for lang, kind, text in entry.texts()
    ]


def _row_keys(rows: Sequence[TextRow]) -> list[tuple[str, ...]]:
    """One key per row: (lang, text), with an occurrence number on repeats of a text
    (entries may share one), so shared texts map one to one across corpora."""
    keys: list[tuple[str, ...]] = [(r.lang, r.text) for r in rows]
    if len(set(keys)) < len(keys):
        seen: dict[tuple[str, ...], int] = {}
        for i, key in enumerate(keys):
            n = seen.get(key, 0)
            seen[key] = n + 1
            if n:
                keys[i] = (*key, str(n))
    return keys


class Corpus:
    """Texts of all entries with their vectors, a faiss inner-product index and BM25."""

    def __init__(
        self,
        rows: list[TextRow],
        vectors: Vectors,
        n_entries: int,
        features: Features | None = None,
        space: FeatureSpace | None = None,
        nearest: NearestTexts | None = None,
    ) -> None:
        """Index ``rows``; their ``features`` (in ``space``) are analyzed and the
        ``nearest``-text index is built when not given."""
        if len(rows) != len(vectors):
            raise ValueError("one vector per text is required")
        self.rows = rows
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.n_entries = n_entries
        self.text_entry: Ints = np.fromiter(
            (r.entry for r in rows), dtype=np.int64, count=len(rows)
        )
        is_answer = np.fromiter((r.kind == "answer" for r in rows), dtype=bool, count=len(rows))
        self.weights: Floats = np.where(is_answer, ANSWER_WEIGHT, 1.0).astype(np.float32)
        self.starts: Ints = np.searchsorted(self.text_entry, np.arange(n_entries)).astype(np.int64)
        self.space = space if space is not None else FeatureSpace()
        if features is None:
            features = self.space.analyze([(r.lang, r.text) for r in rows])
        if features.terms.shape[0] != len(rows) or features.grams.shape[0] != len(rows):
            raise ValueError("one feature row per text is required")
        self.features = features
        groups = by_lang([r.lang for r in rows])
        self.lexical = LexicalIndex(features.terms, groups, self.space.terms)
        # Answers too (weighted like the other signals): leaving them out cost 3
        # points of top-1 on the Spanish bank set, for a faster build.
        self.chars = CharIndex(features.grams, groups, self.space.grams)
        self.ends: Ints = np.append(self.starts[1:], len(rows)).astype(np.int64)
        self._is_answer = is_answer
        self._groups = groups
        self._build_centroids(is_answer, groups)
        faiss.omp_set_num_threads(1)  # like torch: threads fight on small shared machines
        self.nearest = nearest or NearestTexts.build(self.vectors, _text_index)
        # Exact: rebuilt on every edit (a copy); as costly per query as a flat text scan.
        self.centroid_index = faiss.IndexFlatIP(self.centroids.shape[1])
        self.centroid_index.add(self.centroids)

    def with_vectors(self, vectors: Vectors, searchable: bool = True) -> Corpus:
        """The same texts and lexical indexes with other vectors (one per text: an
        adapted space); centroids and the nearest-text index are rebuilt (the latter
        only when ``searchable``: else only :meth:`dense_of` may be used)."""
        if vectors.shape[0] != len(self.rows):
            raise ValueError("one vector per text is required")
        out = copy.copy(self)
        out.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        out._build_centroids(self._is_answer, self._groups)
        if not searchable:
            return out
        out.nearest = NearestTexts.build(out.vectors, _text_index)
        out.centroid_index = faiss.IndexFlatIP(out.centroids.shape[1])
        out.centroid_index.add(out.centroids)
        return out

    def positions(self, rows: Sequence[TextRow]) -> Ints:
        """The position here of each row's text (-1: not here)."""
        known = self.row_positions
        keys = _row_keys(rows)
        return np.fromiter((known.get(k, -1) for k in keys), dtype=np.int64, count=len(rows))

    @functools.cached_property
    def row_positions(self) -> dict[tuple[str, ...], int]:
        """The position of each row by its key (see ``_row_keys``)."""
        return {key: i for i, key in enumerate(_row_keys(self.rows))}

    def derive(
        self, rows: list[TextRow], n_entries: int, embed: Embed, src: Ints | None = None
    ) -> Corpus:
        """A corpus of other rows reusing this one's vectors and analysis of the texts
        they share: only new texts are embedded (``embed``) and analyzed. ``src``: the
        position here of each row's text (-1: new), looked up when not given."""
        if src is None:
            src = self.positions(rows)
        vectors = np.empty((len(rows), self.vectors.shape[1]), dtype=np.float32)
        kept, new = src >= 0, np.flatnonzero(src < 0)
        vectors[kept] = self.vectors[src[kept]]
        if len(new):
            vectors[new] = embed([rows[int(i)].text for i in new])
        features = self.space.derive(self.features, src, rows)
        old_to_new = np.full(len(self.rows), -1, dtype=np.int64)
        old_to_new[src[kept]] = np.flatnonzero(kept)
        nearest = self.nearest.derived(old_to_new, vectors, _text_index)
        return Corpus(rows, vectors, n_entries, features, self.space, nearest)

    def _build_centroids(
        self, is_answer: npt.NDArray[np.bool_], by_language: dict[str, Ints]
    ) -> None:
        """Sum and normalise the question/paraphrase vectors of each (entry, language)."""
        langs = sorted(by_language)
        lang_ids = np.zeros(len(self.rows), dtype=np.int64)
        for i, lang in enumerate(langs):
            lang_ids[by_language[lang]] = i
        members = np.flatnonzero(~is_answer)
        keys = self.text_entry[members] * max(len(langs), 1) + lang_ids[members]
        unique, groups = np.unique(keys, return_inverse=True)  # sorted like (entry, lang)
        dim = self.vectors.shape[1]
        self.group_entry: Ints = (unique // max(len(langs), 1)).astype(np.int64)
        membership = sparse.csr_matrix(
            (np.ones(len(members), dtype=np.float32), (groups, members)),
            shape=(len(unique), len(self.rows)),
        )
        self.group_sum = np.asarray(membership @ self.vectors, dtype=np.float32).reshape(-1, dim)
        self.group_size = np.bincount(groups, minlength=len(unique)).astype(np.int64)
        self.text_group = np.full(len(self.rows), -1, dtype=np.int64)
        self.text_group[members] = groups
        norms = np.linalg.norm(self.group_sum, axis=1, keepdims=True)
        self.centroids = self.group_sum / np.maximum(norms, 1e-12)
        self.group_starts: Ints = np.searchsorted(
            self.group_entry, np.arange(self.n_entries)
        ).astype(np.int64)
        self.group_ends: Ints = np.append(self.group_starts[1:], len(unique)).astype(np.int64)
        self._has_group = self.group_ends > self.group_starts  # entries with a centroid

    def centroid_per_entry(self, group_scores: Floats, fallback: Floats) -> Floats:
        """Best centroid score per entry; ``fallback`` where an entry has no centroid."""
        out = fallback.copy()
        if len(group_scores):
            has = self._has_group
            out[has] = np.maximum.reduceat(group_scores, self.group_starts[has])
        return out

    def blend(self, best_text: Floats, centroid: Floats) -> Floats:
        """The dense entry score from the best text and the best centroid."""
        return (CENTROID_BLEND * best_text + (1 - CENTROID_BLEND) * centroid).astype(np.float32)

    def per_entry(self, text_scores: Floats) -> Floats:
        """Reduce per-text scores to per-entry scores (max over an entry's texts)."""
        if self.n_entries == 0:
            return np.zeros(0, dtype=np.float32)
        return np.maximum.reduceat(text_scores, self.starts).astype(np.float32)

    def dense_texts(self, qvec: Floats) -> Floats:
        """Weighted cosine of the query with every text (exhaustive)."""
        return (self.vectors @ qvec) * self.weights

    def lexical_texts(
        self, terms: list[str], lang: str, exclude: int | None = None
    ) -> tuple[Floats, Floats]:
        """Weighted lexical score and informative-term hits of the query with every text."""
        scores, hits = self.lexical.match(terms, lang, exclude=exclude)
        return scores * self.weights, hits

    def char_texts(self, text: str, lang: str, exclude: int | None = None) -> Floats:
        """Weighted character n-gram cosine of the query with every text."""
        return self.chars.score(text, lang, exclude=exclude) * self.weights

    def dense_of(self, qvec: Floats, cand: Ints) -> Floats:
        """The exact dense scores of the entries ``cand``."""
        best = _spans_max(self.vectors, self.weights, self.starts[cand], self.ends[cand], qvec)
        cent = _spans_max(
            self.centroids, None, self.group_starts[cand], self.group_ends[cand], qvec
        )
        cent = np.where(np.isfinite(cent), cent, best)
        return self.blend(best, cent.astype(np.float32))

    def explained(self, terms: list[str], lang: str, exclude: int | None = None) -> Floats:
        """Per entry: the share of the question's words found in any of its texts."""
        return self.lexical.explained(terms, lang, self.text_entry, self.n_entries, exclude)

    def exact(self, qvec: Floats, text: str, terms: list[str], lang: str) -> Signals:
        """Exact signals of every entry, by brute force."""
        best = self.per_entry(self.dense_texts(qvec))
        dense = self.blend(best, self.centroid_per_entry(self.centroids @ qvec, best))
        lex, hits = self.lexical_texts(terms, lang)
        every = np.arange(self.n_entries, dtype=np.int64)
        chars = self.per_entry(self.char_texts(text, lang))
        return Signals(every, dense, self.per_entry(lex), chars, self.per_entry(hits))

    def candidates(
        self, qvec: Floats, text: str, terms: list[str], lang: str, k: int, explain: bool = False
    ) -> Signals:
        """Entries worth scoring (faiss top texts and centroids, top lexical and
        character matches), with exact scores: no per-entry Python loop, and no
        full-corpus matrix product (a multi-threaded BLAS call per query costs more
        than it saves on a small shared machine)."""
        if self.n_entries == 0:
            empty = np.zeros(0, dtype=np.float32)
            return Signals(np.zeros(0, dtype=np.int64), empty, empty, empty, empty)
        query = qvec.reshape(1, -1)
        n_texts = min(len(self.rows), max(64, 8 * k))
        pools = [self.text_entry[self.nearest.search(query, n_texts)]]
        n_top = min(self.n_entries, max(32, 4 * k))
        n_groups = min(len(self.group_entry), n_top)
        if n_groups:
            _, gids = self.centroid_index.search(query, n_groups)
            pools.append(self.group_entry[gids[0][gids[0] >= 0]])
        lex_t, hits_t = self.lexical_texts(terms, lang)
        lex, hits = self.per_entry(lex_t), self.per_entry(hits_t)
        chars = self.per_entry(self.char_texts(text, lang))
        for signal in (lex, chars):
            top = np.argpartition(-signal, n_top - 1)[:n_top]
            pools.append(top[signal[top] > 0])
        cand = np.unique(np.concatenate(pools))
        dense = self.dense_of(qvec, cand)
        explained = self.explained(terms, lang)[cand] if explain else None
        return Signals(cand, dense, lex[cand], chars[cand], hits[cand], explained)


def _spans_max(vectors: Floats, weights: Floats | None, lo: Ints, hi: Ints, qvec: Floats) -> Floats:
    """Best (weighted) cosine of ``qvec`` over each row span ``lo[i]:hi[i]`` of
    ``vectors`` (-inf for an empty span), as one gathered product."""
    lens = hi - lo
    out = np.full(len(lo), -np.inf, dtype=np.float32)
    has = lens > 0
    if not has.any():
        return out
    lo, lens = lo[has], lens[has]
    offsets = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
    idx = np.repeat(lo - offsets, lens) + np.arange(int(lens.sum()), dtype=np.int64)
    sims = np.einsum("ij,j->i", vectors[idx], qvec)  # not BLAS: see candidates()
    if weights is not None:
        sims = sims * weights[idx]
    out[has] = np.maximum.reduceat(sims, offsets)
    return out
