"""Live edits without recalibrating: a new index that reuses the calibration of the one
it replaces, so an edit is served in well under a second; the caller recalibrates
later (:func:`relearned_calibration`, off the save path) and swaps again.

Only changed texts are embedded and analyzed; the BM25 and n-gram matrices and the
centroids are reassembled from the per-text features with vectorised operations.
Kept apart from ``index.py`` (owned by the retrieval work).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from faq_index.calibration import Calibration, calibrate
from faq_index.corpus import Ints, TextRow
from faq_index.entries import FaqEntry
from faq_index.feedback import Feedback
from faq_index.index import FaqIndex, feedback_rows, merged_entries

# Recalibrating costs seconds of CPU on a large FAQ: do it once this share of
# the entries changed since the last calibration (or after RECALIBRATE_AFTER_S
# with any change; see bot.faq_service). A few edits move the learned weights
# and confidence model by less than the noise of the held-out sample.
RECALIBRATE_SHARE = 0.05


def with_changes_fast(
    index: FaqIndex, upserts: Iterable[FaqEntry] = (), removed_ids: Iterable[str] = ()
) -> FaqIndex:
    """Like ``index.with_changes`` but keeps ``index``'s calibration (no recalibration)."""
    entries = merged_entries(index.entries, upserts, removed_ids)
    rows, src = _rows(index, entries)
    corpus = index._corpus.derive(rows, len(entries), index._cache.embed, src)
    return FaqIndex(entries, corpus, index.calibration, index._cache, recent=index)


def _rows(index: FaqIndex, entries: list[FaqEntry]) -> tuple[list[TextRow], Ints]:
    """The text rows of ``entries`` and where each text is in ``index``'s corpus (-1:
    new): an entry unchanged at its position keeps its row objects (no allocation,
    so no garbage-collector passes over a large heap on every save)."""
    corpus, old = index._corpus, index.entries
    starts, ends = corpus.starts.tolist(), corpus.ends.tolist()
    rows: list[TextRow] = []
    src: list[int] = []
    new: list[int] = []
    for i, entry in enumerate(entries):
        if i < len(old) and old[i] is entry:
            rows.extend(corpus.rows[starts[i] : ends[i]])
            src.extend(range(starts[i], ends[i]))
            continue
        for lang, kind, text in entry.texts():
            new.append(len(rows))
            rows.append(TextRow(i, lang, kind, text))
            src.append(-1)
    positions = np.asarray(src, dtype=np.int64)
    positions[new] = corpus.positions([rows[i] for i in new])
    return rows, positions


def relearned_calibration(index: FaqIndex) -> Calibration:
    """The calibration learned from ``index``'s own texts (the slow part)."""
    entries = index.entries
    feedback = feedback_rows(index.feedback, entries, index._cache)
    keys = [e.content_key() for e in entries]
    ids = [e.id for e in entries]
    # The same entries as the head learned: only staff's verdicts are new, and the
    # n-gram share chosen on these phrasings holds (three fold heads fewer to train).
    head = index.calibration.head
    same = head is not None and head.ids == tuple(ids) and head.versions == tuple(keys)
    share = head.grams_share if same and head is not None else None
    return calibrate(index._corpus, ids, keys, feedback, share)


def with_calibration(index: FaqIndex, calibration: Calibration) -> FaqIndex:
    """The same entries and corpus served with ``calibration`` (no copy, no rebuild)."""
    return FaqIndex(index.entries, index._corpus, calibration, index._cache, recent=index)


def with_feedback_pending(index: FaqIndex, feedback: Feedback) -> FaqIndex:
    """``index`` as it is, holding ``feedback`` for its next recalibration."""
    return FaqIndex(
        index.entries,
        index._corpus,
        index.calibration,
        index._cache,
        recent=index,
        feedback=feedback,
    )


def needs_recalibration(changed: int, entries: int) -> bool:
    """Whether ``changed`` entries edited since the last calibration warrant a new one."""
    return changed > 0 and changed >= RECALIBRATE_SHARE * max(entries, 1)
