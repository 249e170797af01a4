"""Live edits without recalibrating: a new index that reuses the calibration of the one
it replaces, so an edit is served in well under a second; the caller recalibrates
afterwards (``FaqIndex.with_changes()``) and swaps again.

Kept apart from ``index.py`` (owned by the retrieval work); it relies on the same
building blocks as ``FaqIndex._assemble``.
"""

from __future__ import annotations

from collections.abc import Iterable

from faq_index.corpus import Corpus, text_rows
from faq_index.entries import FaqEntry
from faq_index.index import FaqIndex, _check_unique
from faq_index.text import analyzer


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
    old = index._corpus
    known = {(r.lang, r.text): old.tokens[i] for i, r in enumerate(old.rows)}
    rows = text_rows(entries)
    vectors = index._cache.embed([r.text for r in rows])
    tokens = [known.get((r.lang, r.text)) or analyzer(r.lang)(r.text) for r in rows]
    corpus = Corpus(rows, vectors, len(entries), tokens)
    return FaqIndex(entries, corpus, index.calibration, index._cache)
