"""The FAQ index: hybrid search (dense + BM25), calibrated confidence, and the
answer / choose / decline decision."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from faq_index import calibration as calibration_module
from faq_index.cache import EmbeddingCache
from faq_index.calibration import Calibration, calibrate, top_margins
from faq_index.corpus import Corpus, Signals, TextRow, text_rows
from faq_index.encoders import Encoder, Vectors
from faq_index.entries import FaqEntry
from faq_index.errors import FaqIndexError
from faq_index.feedback import Feedback, FeedbackRows, resolve
from faq_index.head import Head
from faq_index.text import base_lang

logger = logging.getLogger(__name__)

# Answer outright only when the calibrated probability of being right is at
# least this: a wrong confident answer is the worst outcome.
ANSWER_CONFIDENCE = 0.5
# The bar when the classifier head adds to the ranking: calibration on held-out
# texts cannot see how real out-of-scope questions attract the head, and at 0.5
# it answered 5.8% of hint3-curekart's out-of-scope questions (precision 0.867).
# Coverage / precision / out-of-scope answered at 0.6, 0.65, 0.7:
#   hint3-curekart 0.611/0.885/0.052, 0.580/0.905/0.041, 0.546/0.914/0.035
#   banking77-dev  0.610/0.947/0,     0.586/0.950/0,     0.555/0.956/0
#   bank-es        0.545/0.985/0,     0.520/0.984/0,     0.496/0.984/0
# (without the head, at 0.5: hint3 0.529/0.882/0.045, banking 0.610/0.939/0,
# bank-es 0.553/0.985/0).
HEAD_ANSWER_CONFIDENCE = 0.65
# Offer choices when 2-3 entries are each plausible on their own (confidence
# with the rivals ignored). Calibration counts hidden entries as hard
# out-of-scope questions, so this is pessimistic: on BANKING77 dev, a bar of
# 0.1 offered choices to 107 of 247 unanswered in-scope questions (the right
# one among them in 90) and to none of the 100 out-of-scope ones.
CHOICE_PLAUSIBILITY = 0.1
MAX_CHOICES = 3
# Experiment (docs/quality.md, fourth round): the matches are ordered by a dense
# score that is this much the adapted space's and the rest the encoder's own
# (where the confidence is computed). 0.5, an equal ensemble, against 1.0 (same
# run): top-1 hint3-curekart 0.876 -> 0.883, banking77-dev 0.821 -> 0.821 (MRR
# 0.886 -> 0.885), bank-es / bank-en unchanged; with staff verdicts it lost on
# banking77-dev (0.848 -> 0.841), so it is not the default.
RANK_ADAPTED_SHARE = 1.0
# Surges repeat the same questions: remember recent query vectors (shared by the
# indexes that replace one another) and each index's recent matches.
_QUERY_CACHE_SIZE = 2048

DecisionKind = Literal["answer", "choose", "decline"]
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Match:
    """An entry and the calibrated confidence (0..1) that it answers the question."""

    entry: FaqEntry
    score: float


@dataclass(frozen=True)
class Decision:
    """What to do with a question: answer with one match, offer choices, or decline."""

    kind: DecisionKind
    matches: tuple[Match, ...] = ()

    @property
    def best(self) -> Match | None:
        """The first match, if any."""
        return self.matches[0] if self.matches else None


class FaqIndex:
    """An immutable, searchable FAQ; build a new one (or use :meth:`with_changes`) on edits."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        corpus: Corpus,
        calibration: Calibration,
        cache: EmbeddingCache,
        *,
        recent: FaqIndex | None = None,
        feedback: Feedback | None = None,
    ) -> None:
        """Wrap a built corpus; ``recent``: an index of the same encoder whose recent
        query vectors to share (a surge goes on hitting them after a swap);
        ``feedback``: staff's verdicts the calibration learns from (None: those of
        ``recent``, kept for its next recalibration)."""
        if feedback is None:
            feedback = recent._feedback if recent is not None else Feedback()
        self._feedback: Feedback = feedback
        self._entries = tuple(entries)
        self._by_id = {e.id: i for i, e in enumerate(self._entries)}
        self._corpus = corpus
        adapter = calibration.adapter
        # The dense signal's space: the corpus's vectors through the FAQ's adapter
        # (only its dense scores are used when the adapter only orders the matches).
        self._search = (
            corpus
            if adapter is None
            else corpus.with_vectors(
                adapter.apply(corpus.vectors), searchable=not calibration.adapter_ranks_only
            )
        )
        self._calibration = calibration
        self._cache = cache
        self._head_cols: npt.NDArray[np.int64] | None = None
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()
        # This index never changes, so a repeated question gets the same matches.
        self._answers: OrderedDict[tuple[str, str, int], list[tuple[Match, float]]] = OrderedDict()
        if recent is not None and recent._cache.encoder is cache.encoder:
            self._recent, self._recent_lock = recent._recent, recent._recent_lock

    @classmethod
    def build(
        cls,
        entries: Iterable[FaqEntry],
        encoder: Encoder,
        *,
        cache_dir: Path | None = None,
        progress: Progress | None = None,
        extra_positives: Iterable[tuple[str, str, str]] = (),
        extra_negatives: Iterable[tuple[str, str]] = (),
    ) -> FaqIndex:
        """Embed (through the cache), index and calibrate ``entries``;
        ``extra_positives`` (text, lang, faq_id): real questions staff mapped to an
        entry; ``extra_negatives`` (text, lang): real questions staff dismissed as not
        answered by the FAQ (see ``faq_index.feedback``)."""
        cache = EmbeddingCache(encoder, cache_dir)
        feedback = Feedback.of(extra_positives, extra_negatives)
        return cls._assemble(list(entries), cache, None, progress, feedback)

    @classmethod
    def _assemble(
        cls,
        entries: list[FaqEntry],
        cache: EmbeddingCache,
        previous_index: FaqIndex | None,
        progress: Progress | None,
        feedback: Feedback | None = None,
    ) -> FaqIndex:
        _check_unique(entries)
        rows = text_rows(entries)
        if previous_index is None:
            vectors = cache.embed([r.text for r in rows], progress=progress)
            corpus = Corpus(rows, vectors, len(entries))
        else:
            corpus = previous_index._corpus.derive(rows, len(entries), cache.embed)
        if feedback is None:
            feedback = previous_index._feedback if previous_index is not None else Feedback()
        ids = [e.id for e in entries]
        rows_fb = feedback_rows(feedback, entries, cache)
        calibration = calibrate(corpus, ids, [e.content_key() for e in entries], rows_fb)
        return cls(entries, corpus, calibration, cache, recent=previous_index, feedback=feedback)

    @property
    def feedback(self) -> Feedback:
        """Staff's verdicts this index was (or is to be) calibrated with."""
        return self._feedback

    def with_feedback(
        self,
        extra_positives: Iterable[tuple[str, str, str]] = (),
        extra_negatives: Iterable[tuple[str, str]] = (),
    ) -> FaqIndex:
        """The same entries recalibrated with these staff verdicts (replacing the
        previous ones): seconds of CPU, run it off the request path."""
        feedback = Feedback.of(extra_positives, extra_negatives)
        return self._assemble(list(self._entries), self._cache, self, None, feedback)

    @property
    def entries(self) -> tuple[FaqEntry, ...]:
        """All entries, in load order."""
        return self._entries

    @property
    def encoder(self) -> Encoder:
        """The encoder queries are embedded with."""
        return self._cache.encoder

    @property
    def calibration(self) -> Calibration:
        """The fusion and confidence parameters learned at build time."""
        return self._calibration

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, faq_id: str) -> FaqEntry | None:
        """The entry with id ``faq_id``, or None."""
        i = self._by_id.get(faq_id)
        return None if i is None else self._entries[i]

    def with_changes(
        self, upserts: Iterable[FaqEntry] = (), removed_ids: Iterable[str] = ()
    ) -> FaqIndex:
        """A new index with entries added/replaced and removed; only new texts are embedded."""
        entries = merged_entries(self._entries, upserts, removed_ids)
        return self._assemble(entries, self._cache, self, None)

    def search(self, text: str, lang: str, k: int = 5) -> list[Match]:
        """The top ``k`` entries for a question, best first, one per entry."""
        return self._ranked(text, lang, k)

    def decide(self, text: str, lang: str) -> Decision:
        """Answer when confident, offer 2-3 close choices, or decline."""
        scored = self._scored(text, lang, MAX_CHOICES)
        if not scored:
            return Decision("decline")
        best, _ = scored[0]
        bar = HEAD_ANSWER_CONFIDENCE if self._calibration.head_weight > 0 else ANSWER_CONFIDENCE
        if best.score >= bar and self._head_agrees(text, best.entry.id):
            return Decision("answer", (best,))
        choices = tuple(m for m, plausible in scored if plausible >= CHOICE_PLAUSIBILITY)
        if len(choices) >= 2:
            return Decision("choose", choices)
        return Decision("decline")

    def _with_head(self, signals: Signals, qvec: np.ndarray, text: str) -> Signals:
        """The candidates' dense scores plus the head's weighted probabilities (entries
        the head never saw get none until the next calibration)."""
        head, weight = self._calibration.head, self._calibration.head_weight
        if head is None or weight <= 0.0 or not len(signals.entries):
            return signals
        cols = self._head_columns(head)[signals.entries]
        probs = np.where(cols >= 0, head.probabilities(qvec, [text])[0][np.maximum(cols, 0)], 0.0)
        return replace(signals, dense=(signals.dense + weight * probs).astype(np.float32))

    def _head_columns(self, head: Head) -> npt.NDArray[np.int64]:
        """The head's class of each entry (-1: unknown to it), computed once."""
        if self._head_cols is None:
            where = {faq_id: i for i, faq_id in enumerate(head.ids)}
            self._head_cols = np.asarray(
                [where.get(e.id, -1) for e in self._entries], dtype=np.int64
            )
        return self._head_cols

    def _head_agrees(self, text: str, faq_id: str) -> bool:
        """Whether the classifier head (if any) prefers ``faq_id`` too; a head that
        was not trained on the entry as it is now (new or edited since: a paraphrase
        staff just mapped), or that prefers one since removed or edited, has no say."""
        head = self._calibration.head
        entry = self.entry(faq_id)
        if head is None or entry is None or not head.learned(faq_id, entry.content_key()):
            return True
        favourite = head.best(self._embed_query(text), text)
        if favourite == faq_id:
            return True
        rival = self.entry(favourite)
        return rival is None or not head.learned(favourite, rival.content_key())

    def _ranked(self, text: str, lang: str, k: int) -> list[Match]:
        return [match for match, _ in self._scored(text, lang, k)]

    def _scored(self, text: str, lang: str, k: int) -> list[tuple[Match, float]]:
        """Top matches with their standalone plausibility, best first (remembered)."""
        key = (" ".join(text.split()), lang, k)
        with self._recent_lock:
            hit = self._answers.get(key)
            if hit is not None:
                self._answers.move_to_end(key)
                return list(hit)
        scored = self._score(text, lang, k)
        with self._recent_lock:
            self._answers[key] = scored
            if len(self._answers) > _QUERY_CACHE_SIZE:
                self._answers.popitem(last=False)
        return list(scored)

    def _score(self, text: str, lang: str, k: int) -> list[tuple[Match, float]]:
        """Search and calibrate: the work :meth:`_scored` remembers."""
        if not text.strip() or not self._entries or k <= 0:
            return []
        lang = self._lexical_lang(lang)
        qvec = self._embed_query(text)
        adapter = self._calibration.adapter
        ranks_only = adapter is not None and self._calibration.adapter_ranks_only
        corpus = self._corpus if ranks_only else self._search
        dvec = qvec if adapter is None or ranks_only else adapter.apply(qvec)[0]
        terms = corpus.lexical.query_terms(text, lang)
        explain = calibration_module.EXTRA_FEATURES
        signals = self._with_head(
            corpus.candidates(dvec, text, terms, lang, k, explain), qvec, text
        )
        params = self._calibration.params(lang)
        fused = params.fuse(signals)
        order = np.argsort(-fused, kind="stable")
        ranked = signals.take(order)
        conf = params.confidence(fused[order], top_margins(fused[order]), ranked)
        plausible = params.plausibility(fused[order], ranked)
        if ranks_only and adapter is not None:
            adapted = self._with_head(
                replace(
                    ranked, dense=self._search.dense_of(adapter.apply(qvec)[0], ranked.entries)
                ),
                qvec,
                text,
            )
            share = RANK_ADAPTED_SHARE
            if share < 1.0:  # both dense scores carry the head's share
                dense = share * adapted.dense + (1 - share) * ranked.dense
                adapted = replace(adapted, dense=dense.astype(np.float32))
            top = np.argsort(-params.fuse(adapted), kind="stable")[:k]
            # Best first holds for the scores too: a match the adapter ranks lower is
            # never reported as more confident than one above it (capped, never raised).
            scores = np.minimum.accumulate(conf[top])
        else:
            top = np.argsort(-conf, kind="stable")[:k]
            scores = conf[top]
        return [
            (Match(self._entries[int(ranked.entries[j])], float(score)), float(plausible[j]))
            for j, score in zip(top, scores, strict=True)
        ]

    def _embed_query(self, text: str) -> np.ndarray:
        return self._embed_queries([text])[0]

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Query vectors of ``texts`` as searches embed them (same whitespace folding).

        Texts searched recently are not encoded again (the console groups the
        questions the FAQ could not answer moments after they were searched);
        the others are encoded in one batch and remembered.
        """
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack(self._embed_queries(texts)).astype(np.float32, copy=False)

    def _embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        keys = [" ".join(text.split()) for text in texts]
        found: dict[str, np.ndarray] = {}
        with self._recent_lock:
            for key in keys:
                vec = self._recent.get(key)
                if vec is not None:
                    self._recent.move_to_end(key)
                    found[key] = vec
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            encoded = self.encoder.encode(missing)
            with self._recent_lock:
                for key, vec in zip(missing, encoded, strict=True):
                    found[key] = vec
                    self._recent[key] = vec
                    self._recent.move_to_end(key)
                while len(self._recent) > _QUERY_CACHE_SIZE:
                    self._recent.popitem(last=False)
        return [found[key] for key in keys]

    def _lexical_lang(self, lang: str) -> str:
        known = self._corpus.lexical.languages
        if lang in known:
            return lang
        base = base_lang(lang)
        return base if base in known else lang

    def texts(self) -> list[TextRow]:
        """Every indexed text (for diagnostics)."""
        return list(self._corpus.rows)


def feedback_rows(
    feedback: Feedback, entries: Sequence[FaqEntry], cache: EmbeddingCache
) -> FeedbackRows | None:
    """``feedback`` resolved against ``entries`` and embedded (through the cache);
    a verdict without a language takes the FAQ's first one."""
    if not feedback:
        return None
    default_lang = next((lang for e in entries for lang, _, _ in e.texts()), "en")
    return resolve(feedback, [e.id for e in entries], cache.embed, default_lang)


def merged_entries(
    entries: Sequence[FaqEntry], upserts: Iterable[FaqEntry], removed_ids: Iterable[str]
) -> list[FaqEntry]:
    """``entries`` (unique ids) with ``upserts`` replacing same-id entries in place or
    appended, and ``removed_ids`` dropped: unique ids again (raises on repeated upserts)."""
    changed = list(upserts)
    _check_unique(changed)
    drop = set(removed_ids)
    replace = {e.id: e for e in changed}
    merged = [replace.pop(e.id, e) for e in entries if e.id not in drop]
    merged.extend(e for e in changed if e.id in replace)
    return merged


def _check_unique(entries: Sequence[FaqEntry]) -> None:
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise FaqIndexError(f"duplicate FAQ id {entry.id!r}")
        seen.add(entry.id)
