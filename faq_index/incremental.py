"""Live edits without recalibrating: a new index that reuses the calibration of the one
it replaces, so an edit is served in well under a second; the caller recalibrates
later (:func:`recalibrated`, off the save path) and swaps again.

Only changed texts are embedded and analyzed; the BM25 and n-gram matrices and the
centroids are reassembled from the per-text features with vectorised operations.
Kept apart from ``index.py`` (owned by the retrieval work).
"""

from __future__ import annotations

from collections.abc import Iterable

from faq_index.calibration import Calibration, calibrate
from faq_index.corpus import text_rows
from faq_index.entries import FaqEntry
from faq_index.index import FaqIndex, _check_unique

# Recalibrating costs seconds of CPU on a large FAQ: do it once this share of
# the entries changed since the last calibration (or after RECALIBRATE_AFTER_S
# with any change; see bot.faq_service). A few edits move the learned weights
# and confidence model by less than the noise of the held-out sample.
RECALIBRATE_SHARE = 0.05


def with_changes_fast(
    index: FaqIndex, upserts: Iterable[FaqEntry] = (), removed_ids: Iterable[str] = ()
) -> FaqIndex:
    """Like ``index.with_changes`` but keeps ``index``'s calibration (no recalibration)."""
    changed = list(upserts)
    _check_unique(changed)
    drop = set(removed_ids)
    replace = {e.id: e for e in changed}
    entries = [replace.pop(e.id, e) for e in index.entries if e.id not in drop]
    entries.extend(e for e in changed if e.id in replace)
    _check_unique(entries)
    corpus = index._corpus.derive(text_rows(entries), len(entries), index._cache.embed)
    return FaqIndex(entries, corpus, index.calibration, index._cache, recent=index)


def relearned_calibration(index: FaqIndex) -> Calibration:
    """The calibration learned from ``index``'s own texts (the slow part)."""
    return calibrate(index._corpus)


def with_calibration(index: FaqIndex, calibration: Calibration) -> FaqIndex:
    """The same entries and corpus served with ``calibration`` (no copy, no rebuild)."""
    return FaqIndex(index.entries, index._corpus, calibration, index._cache, recent=index)


def needs_recalibration(changed: int, entries: int) -> bool:
    """Whether ``changed`` entries edited since the last calibration warrant a new one."""
    return changed > 0 and changed >= RECALIBRATE_SHARE * max(entries, 1)
