"""Calibration on the index's own texts: how to fuse the signals and how far to trust them.

At build time each sampled question or paraphrase is asked as a query twice:
with only that text hidden (its entry should still win: a positive or a
mistake) and with its whole entry hidden (any answer is wrong: a stand-in for
an out-of-scope question that is close to the FAQ's domain). From these we
pick the dense / BM25 / character n-gram fusion weights that rank best, per
language when a language has enough texts, and fit a logistic model that turns
a match's evidence (fused score, margin over the best other entry, lexical
share, how far it trails the dense model's favourite, informative words
matched) into the probability that it is the right answer.

Learned models never see real out-of-scope questions, so one rule caps them:
a match resting on at most one informative word, which the dense model does
not agree with or which leaves most of the question unexplained, is never
confident (``WEAK_CAP``).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from faq_index import head as head_module
from faq_index.adapter import Adapter, train_adapter
from faq_index.corpus import Corpus, Floats, Signals
from faq_index.feedback import FeedbackRows
from faq_index.head import GramCounts, Head, train_head
from faq_index.text import base_lang

logger = logging.getLogger(__name__)

MAX_SAMPLES = 800
MIN_LANG_SAMPLES = 40
ROWS_PER_QUERY = 3
_CANDIDATES = 16
# The prior counts as this many observations: small FAQs stay near it, large
# ones learn their own model.
_PRIOR_WEIGHT = 50.0
_CHUNK = 64
_STEP = 0.1
# Fusion weights (dense, BM25, character n-grams) tried: a 0.1 grid on the simplex
# where every signal keeps a voice (dense >= 0.3, the others >= 0.1). Held-out
# paraphrases share words with their questions more than customers do, so left
# free the fit drops the dense model (Spanish bank FAQ: BM25 alone won there,
# and lost 7 points of top-1 on real questions to the constrained choice).
WEIGHT_GRID = tuple(
    (round(_STEP * a, 1), round(_STEP * b, 1), round(1 - _STEP * (a + b), 1))
    for a, b in itertools.product(range(11), repeat=2)
    if a >= 3 and b >= 1 and a + b <= 9
)

# A match backed by at most one informative word is weak evidence when the dense
# model prefers another entry by more than DENSE_DISAGREE, or when that word is
# under WEAK_SHARE of the question's IDF mass (the rest of the question is
# unexplained) in a language where the fit trusts the dense model less than
# DENSE_TRUSTED (it does not know the language well): its confidence is capped
# under the answer bar (it may still be offered as a choice). "que me pongo para
# una boda" shares only "pongo" with "¿Cómo pongo una reclamación?".
DENSE_DISAGREE = 0.03
WEAK_HITS = 1.0
WEAK_SHARE = 0.5
DENSE_TRUSTED = 0.5
WEAK_CAP = 0.3
SUPPORT_HITS = 2.0

# Used when the FAQ has too few paraphrases to learn from (and as the ridge
# prior otherwise): fitted on BANKING77 dev paraphrases with all-MiniLM-L6-v2.
DEFAULT_WEIGHTS = (0.6, 0.2, 0.2)
DEFAULT_COEF = (-6.9, 8.3, 18.5, -0.4, 5.0, 0.5)


@dataclass(frozen=True)
class LangParams:
    """Fusion weights and confidence model for one language."""

    weights: tuple[float, float, float]
    coef: tuple[float, ...]
    samples: int = 0

    def fuse(self, signals: Signals) -> Floats:
        """Fused score: weighted sum of dense, BM25 and character n-gram scores."""
        wd, wl, wc = self.weights
        fused: Floats = (wd * signals.dense + wl * signals.lexical + wc * signals.chars).astype(
            np.float32
        )
        return fused

    def confidence(self, fused: Floats, margin: Floats, signals: Signals) -> Floats:
        """Calibrated probability that each match (aligned with ``signals``) is right."""
        x = features(fused, margin, signals)[:, : len(self.coef)]
        p = _sigmoid(x @ np.asarray(self.coef, dtype=np.float64))
        doubtful = x[:, 4] < -DENSE_DISAGREE  # the dense model prefers another entry
        if self.weights[0] < DENSE_TRUSTED:  # or most of the question is unexplained
            doubtful |= signals.lexical < WEAK_SHARE
        weak = (signals.hits <= WEAK_HITS) & doubtful
        return np.where(weak, np.minimum(p, WEAK_CAP), p).astype(np.float32)

    def plausibility(self, fused: Floats, signals: Signals) -> Floats:
        """Confidence each match would have if no other entry came close (zero margin)."""
        return self.confidence(fused, np.zeros_like(fused), signals)


def features(fused: Floats, margin: Floats, signals: Signals) -> npt.NDArray[np.float64]:
    """Rows (1, fused, margin, lexical, dense gap to the best candidate, word support,
    and with ``EXTRA_FEATURES``: share of the question the entry explains, lexical
    gap to the best candidate)."""
    gap = signals.dense - (float(np.max(signals.dense)) if len(signals.dense) else 0.0)
    support = np.minimum(signals.hits, SUPPORT_HITS) / SUPPORT_HITS
    cols = [np.ones_like(fused), fused, margin, signals.lexical, gap, support]
    if EXTRA_FEATURES:
        explained = signals.lexical if signals.explained is None else signals.explained
        lex_gap = signals.lexical - (float(np.max(signals.lexical)) if len(fused) else 0.0)
        cols += [explained, lex_gap]
    return np.stack([np.asarray(c, dtype=np.float64) for c in cols], axis=1)


# Experiment (docs/quality.md): more confidence features.
EXTRA_FEATURES = False


DEFAULT_PARAMS = LangParams(DEFAULT_WEIGHTS, DEFAULT_COEF)


def default_params() -> LangParams:
    """The prior, with zero weight on the extra features when they are on."""
    return LangParams(DEFAULT_WEIGHTS, DEFAULT_COEF + ((0.0, 0.0) if EXTRA_FEATURES else ()))


@dataclass(frozen=True)
class Calibration:
    """Per-language parameters with a pooled fallback (languages with few samples),
    and the classifier head learned from the same texts (None: none fits)."""

    pooled: LangParams = DEFAULT_PARAMS
    by_lang: dict[str, LangParams] = field(default_factory=dict)
    head: Head | None = None
    # Added to the dense signal: this x the head's probability of the entry
    # (chosen on held-out texts, with the head trained without them).
    head_weight: float = 0.0
    # The contrastive adapter of the dense signal's vectors (None: the encoder's own).
    adapter: Adapter | None = None
    # The adapter only orders the matches (confidence from the encoder's own space).
    adapter_ranks_only: bool = False

    def params(self, lang: str) -> LangParams:
        """The parameters for queries in ``lang``."""
        return self.by_lang.get(lang, self.pooled)


@dataclass
class _Sample:
    lang: str
    target: int
    signals: Signals
    row: int = -1
    hidden: Signals | None = None  # the signals when the whole entry is hidden
    feedback: int = -1  # a staff verdict on a real question: its position in FeedbackRows
    # Where the entry is in ``hidden`` when those were scored apart (-1: as ``target``).
    hidden_target: int = -1


def calibrate(
    corpus: Corpus,
    ids: Sequence[str] | None = None,
    versions: Sequence[str] = (),
    feedback: FeedbackRows | None = None,
    grams_share: float | None = None,
) -> Calibration:
    """Learn fusion weights and confidence models from the corpus's own texts, and
    the classifier head when the entries' ``ids`` are given; ``feedback``: real
    questions staff mapped to an entry (the head learns them too) or dismissed
    (see ``faq_index.feedback``), calibrated on alongside the held-out texts;
    ``grams_share``: the head's n-gram share when already known (chosen on these
    same phrasings by an earlier calibration: only staff's verdicts are new)."""
    head = None if ids is None else learn_head(corpus, ids, versions, feedback)
    held = _held_out(corpus)
    adapter = None
    if ids is not None and ADAPTER_MODE != "off":
        # Staff's mapped questions train the adapter too, unless the calibration is
        # scored in its space (they are calibration samples there).
        adapter = learn_adapter(corpus, feedback=feedback if ADAPTER_MODE == "rank" else None)
    if adapter is not None and ADAPTER_MODE == "space":
        samples = _collect_adapted(corpus, held)
        search = corpus.with_vectors(adapter.apply(corpus.vectors))
    else:
        samples, search = _collect(corpus, held), corpus
    if feedback is not None and ids is not None:
        samples += _feedback_samples(search, feedback, adapter if search is not corpus else None)
    if not samples:
        return Calibration(head=head)
    head_weight = 0.0
    if head is not None and ids is not None:
        shares = head_module.GRAMS_SHARES if grams_share is None else (grams_share,)
        samples, head_weight, share = _with_head(corpus, ids, samples, feedback, shares)
        if share > 0:  # the served head: trained on every phrasing with that share
            head = learn_head(corpus, ids, versions, feedback, share) or head
    pooled = _fit(samples, default_params())
    by_lang: dict[str, list[_Sample]] = defaultdict(list)
    for s in samples:
        by_lang[s.lang].append(s)
    langs = {
        lang: _fit(items, pooled)
        for lang, items in by_lang.items()
        if len(items) >= MIN_LANG_SAMPLES and len(by_lang) > 1
    }
    logger.debug("calibration pooled=%s by_lang=%s", pooled, langs)
    return Calibration(pooled, langs, head, head_weight, adapter, ADAPTER_MODE == "rank")


# The contrastive adapter (faq_index.adapter) of the dense signal: "space": the
# dense signal is computed in the adapted space, and the calibration samples are
# scored out of fold, like the head's (each held-out text through an adapter
# trained without it; the one served is trained on all); "rank": the adapted
# dense signal only orders the candidates, their confidence is the encoder's own
# space's (calibrated as without the adapter); "off".
ADAPTER_MODE = "rank"


def learn_adapter(
    corpus: Corpus, exclude: frozenset[int] = frozenset(), feedback: FeedbackRows | None = None
) -> Adapter | None:
    """The adapter learned from the questions and paraphrases of ``corpus`` (rows
    in ``exclude`` left out) and the questions staff mapped to an entry."""
    rows = [i for i, r in enumerate(corpus.rows) if r.kind != "answer" and i not in exclude]
    if not rows:
        return None
    vectors = corpus.vectors[rows]
    labels = [corpus.rows[i].entry for i in rows]
    texts = [corpus.rows[i].text for i in rows]
    if feedback is not None and (feedback.targets >= 0).any():
        mapped = np.flatnonzero(feedback.targets >= 0)
        vectors = np.concatenate([vectors, feedback.vectors[mapped]])
        labels += feedback.targets[mapped].tolist()
        texts += [feedback.texts[i] for i in mapped]
    return train_adapter(vectors, labels, texts)


def _collect_adapted(corpus: Corpus, held: list[int]) -> list[_Sample]:
    """Samples of the ``held`` texts, each scored in the space of an adapter trained
    without it (folds as the head's: the n-th held text in fold n % _FOLDS)."""
    samples: list[_Sample] = []
    for fold in range(_FOLDS):
        rows = held[fold::_FOLDS]
        if not rows:
            continue
        fold_adapter = learn_adapter(corpus, frozenset(rows))
        space = (
            corpus
            if fold_adapter is None
            else corpus.with_vectors(fold_adapter.apply(corpus.vectors))
        )
        samples += _collect(space, rows)
    samples.sort(key=lambda s: s.row)
    if not ENTRY_FOLDS:
        return samples
    # The entry-hidden pass stands for an out-of-scope question: score it in the
    # space of an adapter that never saw its entry (else the adapter, trained to
    # pull the text towards its entry, makes it look farther from the rest than
    # a real out-of-scope question is).
    by_row = {s.row: s for s in samples}
    for fold in range(_FOLDS):
        rows = [h for h in held if corpus.rows[h].entry % _FOLDS == fold]
        if not rows:
            continue
        hidden_entries = {corpus.rows[h].entry for h in rows}
        unseen = frozenset(i for i, r in enumerate(corpus.rows) if r.entry in hidden_entries)
        fold_adapter = learn_adapter(corpus, unseen)
        space = (
            corpus
            if fold_adapter is None
            else corpus.with_vectors(fold_adapter.apply(corpus.vectors))
        )
        for other in _collect(space, rows):
            sample = by_row[other.row]
            sample.hidden, sample.hidden_target = other.signals, other.target
    return samples


ENTRY_FOLDS = True


# Added to the dense score (which counts 0.3-0.9 of the fused one): this x the
# head's probability of the entry. Measured with MiniLM int8, top-1 / coverage /
# precision / out-of-scope answered at the answer bar 0.5, against no head:
# banking77-dev 0.794 / 0.653 / 0.945 / 0.000 (0.782 / 0.601 / 0.941 / 0.000),
# hint3-curekart 0.858 / 0.646 / 0.867 / 0.058 (0.852 / 0.513 / 0.893 / 0.039);
# 0.2 and 0.3 answered more out-of-scope questions on hint3 (0.085, 0.106) for
# no more top-1; choosing the weight by the held-out texts' MRR picked 0 on
# banking77 and 0.3 on hint3, the worst of both, so the weight is fixed.
HEAD_WEIGHT = 0.1
_FOLDS = 2


def _with_head(
    corpus: Corpus,
    ids: Sequence[str],
    samples: list[_Sample],
    feedback: FeedbackRows | None,
    shares: Sequence[float],
) -> tuple[list[_Sample], float, float]:
    """The samples with the head's out-of-fold probabilities (trained without them,
    in two folds) added to their dense signal, the weight (0: no head) and the
    n-grams' share of the head's input: of ``shares``, the one whose fold
    heads name the most held-out phrasings' entries (ties: the smaller). Staff's
    questions get the fold heads' mean (neither learned them)."""
    phrasings = np.asarray([i for i, r in enumerate(corpus.rows) if r.kind != "answer"])
    own = [s for s in samples if s.feedback < 0]
    real = [s for s in samples if s.feedback >= 0]
    folds = []
    for fold in range(_FOLDS):
        held = {s.row for n, s in enumerate(own) if n % _FOLDS == fold}
        train = np.asarray([i for i in phrasings.tolist() if i not in held], dtype=np.int64)
        if held and len(train):
            folds.append((sorted(held), train))
    # Staff's questions, counted once for every fold head that reads n-grams.
    asked = None
    if real and feedback is not None:
        picked = [s.feedback for s in real]
        texts = [feedback.texts[i] for i in picked]
        asked = (feedback.vectors[picked], GramCounts.of(texts, corpus.space.grams))
    best: tuple[int, float, dict[int, npt.NDArray[np.float32]], list[npt.NDArray[np.float32]]]
    best = (-1, 0.0, {}, [])
    for share in sorted(set(shares)):  # ascending: a tie keeps the smaller share
        got = _fold_heads(corpus, ids, folds, asked, share)
        if got is None or len(got[0]) < len(own) or (real and len(got[1]) < _FOLDS):
            if share == 0.0:
                return samples, 0.0, 0.0
            continue
        probs, real_probs = got
        right = sum(int(np.argmax(probs[s.row])) == corpus.rows[s.row].entry for s in own)
        if right > best[0]:
            best = (right, share, probs, real_probs)
    _, share, probs, real_probs = best
    shifted = [_shifted(s, probs[s.row], HEAD_WEIGHT) for s in own]
    if real:
        mean = np.mean(real_probs, axis=0).astype(np.float32)
        shifted += [_shifted(s, p, HEAD_WEIGHT) for s, p in zip(real, mean, strict=True)]
    return shifted, HEAD_WEIGHT, share


def _fold_heads(
    corpus: Corpus,
    ids: Sequence[str],
    folds: list[tuple[list[int], npt.NDArray[np.int64]]],
    asked: tuple[npt.NDArray[np.float32], GramCounts] | None,
    share: float,
) -> tuple[dict[int, npt.NDArray[np.float32]], list[npt.NDArray[np.float32]]] | None:
    """Each fold's held-out rows' probabilities from a head trained on the rest, and
    the fold heads' probabilities of staff's questions (``asked``: their vectors and
    n-gram counts); None when a head fails."""
    probs: dict[int, npt.NDArray[np.float32]] = {}
    real_probs: list[npt.NDArray[np.float32]] = []
    grams = _gram_counts(corpus)
    for rows, train in folds:
        head = train_head(
            corpus.vectors[train],
            [corpus.rows[i].entry for i in train],
            ids,
            texts=grams.rows(train),
            grams_share=share,
        )
        if head is None:
            return None
        probs.update(
            zip(rows, head.probabilities(corpus.vectors[rows], grams.rows(rows)), strict=True)
        )
        if asked is not None:
            real_probs.append(head.probabilities(*asked))
    return probs, real_probs


def _shifted(sample: _Sample, probs: npt.NDArray[np.float32], weight: float) -> _Sample:
    """``sample`` with ``weight`` x the head's probabilities added to its dense signal;
    for the hidden-entry pass the entry's own class is dropped and the rest renormalised
    (as if the head had never seen it)."""
    sig = sample.signals
    shown = replace(sig, dense=(sig.dense + weight * probs[sig.entries]).astype(np.float32))
    if sample.target < 0:  # a question no entry in view answers: nothing to hide
        return _Sample(sample.lang, sample.target, shown, sample.row, None, sample.feedback)
    entry = int(sig.entries[sample.target])
    rest = probs.copy()
    rest[entry] = 0.0
    rest = rest / max(float(rest.sum()), 1e-12)
    base = sample.hidden if sample.hidden is not None else sig
    hidden = replace(base, dense=(base.dense + weight * rest[base.entries]).astype(np.float32))
    return _Sample(
        sample.lang, sample.target, shown, sample.row, hidden, sample.feedback, sample.hidden_target
    )


def learn_head(
    corpus: Corpus,
    ids: Sequence[str],
    versions: Sequence[str] = (),
    feedback: FeedbackRows | None = None,
    grams_share: float = 0.0,
) -> Head | None:
    """The classifier head over the questions and paraphrases of ``corpus`` (entries
    named by ``ids``, in corpus order) and the questions staff mapped to them, with
    ``grams_share`` of character n-grams in its input."""
    rows = [i for i, row in enumerate(corpus.rows) if row.kind != "answer"]
    if not rows:
        return None
    labels = [corpus.rows[i].entry for i in rows]
    texts = _gram_counts(corpus).rows(rows)
    vectors = corpus.vectors[rows]
    if feedback is not None and (feedback.targets >= 0).any():
        mapped = np.flatnonzero(feedback.targets >= 0)
        labels += feedback.targets[mapped].tolist()
        # n-grams no FAQ text has are left out: the corpus's vocabulary is not grown
        texts = texts.then(GramCounts.of([feedback.texts[i] for i in mapped], texts.vocab))
        vectors = np.concatenate([vectors, feedback.vectors[mapped]])
    return train_head(vectors, labels, ids, versions, texts, grams_share)


def _gram_counts(corpus: Corpus) -> GramCounts:
    """The corpus's texts' character n-gram counts (analyzed once, with the corpus)."""
    return GramCounts(corpus.features.grams, corpus.space.grams)


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


def _collect(corpus: Corpus, held: list[int]) -> list[_Sample]:
    samples: list[_Sample] = []
    for start in range(0, len(held), _CHUNK):
        chunk = held[start : start + _CHUNK]
        text_sims = corpus.vectors[chunk] @ corpus.vectors.T
        group_sims = corpus.vectors[chunk] @ corpus.centroids.T
        for row, h in enumerate(chunk):
            sample = _one(corpus, h, text_sims[row], group_sims[row])
            sample.row = h
            samples.append(sample)
    return samples


def _feedback_samples(
    corpus: Corpus, feedback: FeedbackRows, adapter: Adapter | None = None
) -> list[_Sample]:
    """Staff's questions scored as the index scores a customer's: the mapped entry is
    the target (-1 when it is not among the candidates, or for a dismissed one)."""
    samples: list[_Sample] = []
    known = corpus.lexical.languages
    vectors = feedback.vectors if adapter is None else adapter.apply(feedback.vectors)
    for n, (text, given) in enumerate(zip(feedback.texts, feedback.langs, strict=True)):
        lang = given if given in known or base_lang(given) not in known else base_lang(given)
        terms = corpus.lexical.query_terms(text, lang)
        signals = corpus.candidates(vectors[n], text, terms, lang, _CANDIDATES, EXTRA_FEATURES)
        hit = np.flatnonzero(signals.entries == feedback.targets[n])
        target = int(hit[0]) if len(hit) and feedback.targets[n] >= 0 else -1
        samples.append(_Sample(lang, target, signals, -1, None, n))
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
    lex_t, hits_t = corpus.lexical_texts(terms, row.lang, exclude=h)
    lex, hits = corpus.per_entry(lex_t), corpus.per_entry(hits_t)
    chars = corpus.per_entry(corpus.char_texts(row.text, row.lang, exclude=h))
    k = min(_CANDIDATES, corpus.n_entries)
    pool = {row.entry}
    for signal in (dense, lex, chars):
        pool.update(np.argpartition(-signal, k - 1)[:k].tolist())
    entries = np.fromiter(sorted(pool), dtype=np.int64)
    target = int(np.searchsorted(entries, row.entry))
    explained = corpus.explained(terms, row.lang, exclude=h)[entries] if EXTRA_FEATURES else None
    signals = Signals(
        entries, dense[entries], lex[entries], chars[entries], hits[entries], explained
    )
    return _Sample(row.lang, target, signals)


def _rows(
    params: LangParams, signals: Signals, drop: int | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Feature rows of the top matches, best first (``drop``: an entry to hide)."""
    keep = np.ones(len(signals.entries), dtype=bool)
    if drop is not None:
        keep[drop] = False
    shown = signals.take(np.flatnonzero(keep))
    fused = params.fuse(shown)
    order = np.argsort(-fused, kind="stable")[: ROWS_PER_QUERY + 1]
    top = order[:ROWS_PER_QUERY]
    margins = top_margins(fused[order])[: len(top)]
    x = features(fused, np.zeros_like(fused), shown)[top]
    x[:, 2] = margins
    return x, np.flatnonzero(keep)[top]


def top_margins(ranked: Floats) -> Floats:
    """Margins of ranked scores: the best over the runner-up, the others under the best."""
    if len(ranked) == 0:
        return np.zeros(0, dtype=np.float32)
    margins: Floats = (ranked - ranked[0]).astype(np.float32)
    margins[0] = ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0)
    return margins


def _fit(samples: list[_Sample], prior: LangParams) -> LangParams:
    weights = _best_weights(samples)
    trial = LangParams(weights, prior.coef)
    rows: list[npt.NDArray[np.float64]] = []
    labels: list[npt.NDArray[np.float64]] = []
    for s in samples:
        x, top = _rows(trial, s.signals, None)
        rows.append(x)
        labels.append((top == s.target).astype(np.float64))
        if s.target < 0:
            continue  # a question no entry in view answers: its rows are all wrong already
        drop = s.hidden_target if s.hidden is not None and s.hidden_target >= 0 else s.target
        x, _ = _rows(trial, s.hidden or s.signals, drop)  # entry hidden: all wrong
        rows.append(x)
        labels.append(np.zeros(len(x)))
    coef = _logistic(np.concatenate(rows), np.concatenate(labels), np.asarray(prior.coef))
    return LangParams(weights, tuple(float(c) for c in coef), len(samples))


def _best_weights(samples: list[_Sample]) -> tuple[float, float, float]:
    """The grid weights with the best MRR of the held-out texts' own entries (and of
    the questions staff mapped)."""
    samples = [s for s in samples if s.target >= 0]
    if len(samples) < MIN_LANG_SAMPLES:
        return DEFAULT_WEIGHTS  # too few to tell the signals apart reliably

    stacked = np.stack(
        [
            np.concatenate([s.signals.dense for s in samples]),
            np.concatenate([s.signals.lexical for s in samples]),
            np.concatenate([s.signals.chars for s in samples]),
        ]
    ).astype(np.float64)
    sizes = np.asarray([len(s.signals.entries) for s in samples])
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    targets = offsets + np.asarray([s.target for s in samples])
    owner = np.repeat(np.arange(len(samples)), sizes)
    grid = np.asarray(WEIGHT_GRID, dtype=np.float64)
    fused = grid @ stacked  # (weights, all candidate rows)
    above = fused > fused[:, targets][:, owner] + 1e-9
    ranks = np.add.reduceat(above, offsets, axis=1)
    mrr = np.mean(1.0 / (1.0 + ranks), axis=1)
    # Ties go to the weights closest to the default (stable across small edits).
    distance = np.abs(grid - np.asarray(DEFAULT_WEIGHTS)).sum(axis=1)
    best = np.lexsort((distance, -np.round(mrr, 9)))[0]
    return (float(grid[best, 0]), float(grid[best, 1]), float(grid[best, 2]))


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
