"""Nearest texts for the candidate pool, with a graph that survives live edits.

Building an HNSW graph costs ~1 s per 25,000 texts here, too slow to redo on
every save. A derived corpus keeps the graph of the corpus it came from (never
modified once built: queries in flight may be searching it), maps its ids to the
new rows, drops texts that are gone, and scans the texts added since exactly.
Once too much has changed the graph is rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable

import faiss
import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]
MakeIndex = Callable[[Floats], faiss.Index]

# Rebuild the graph once texts gone from it plus texts added beside it reach
# this share of it: the exact scan of new texts stays small (~1 ms per 8,000).
REBUILD_SHARE = 0.2


class NearestTexts:
    """A faiss index (flat or graph) over some texts, mapped to corpus rows, plus an
    exact scan of the rows it does not hold."""

    def __init__(self, index: faiss.Index, rows: Ints, fresh_rows: Ints, vectors: Floats) -> None:
        """``rows``: the corpus row of each id of ``index`` (-1: gone);
        ``fresh_rows``: rows searched exactly, ``vectors`` the corpus's vectors."""
        self.index = index
        self.rows = rows
        self.fresh_rows = fresh_rows
        self._fresh = faiss.IndexFlatIP(vectors.shape[1])
        if len(fresh_rows):
            self._fresh.add(np.ascontiguousarray(vectors[fresh_rows]))

    @classmethod
    def build(cls, vectors: Floats, make_index: MakeIndex) -> NearestTexts:
        """Index every row of ``vectors``."""
        rows = np.arange(len(vectors), dtype=np.int64)
        return cls(make_index(vectors), rows, np.zeros(0, dtype=np.int64), vectors)

    def derived(self, old_to_new: Ints, vectors: Floats, make_index: MakeIndex) -> NearestTexts:
        """The same index for a corpus whose row ``old_to_new[i]`` holds this corpus's
        row ``i`` (-1: gone); rebuilt when flat (a copy) or when much has changed."""
        if isinstance(self.index, faiss.IndexFlat):
            return NearestTexts.build(vectors, make_index)
        live = self.rows >= 0
        rows = np.full(len(self.rows), -1, dtype=np.int64)
        rows[live] = old_to_new[self.rows[live]]
        covered = np.zeros(len(vectors), dtype=bool)
        covered[rows[rows >= 0]] = True
        fresh_rows = np.flatnonzero(~covered).astype(np.int64)
        changed = int(np.count_nonzero(rows < 0)) + len(fresh_rows)  # gone + scanned beside
        if changed > REBUILD_SHARE * max(len(rows), 1):
            return NearestTexts.build(vectors, make_index)  # before copying fresh vectors
        return NearestTexts(self.index, rows, fresh_rows, vectors)

    def search(self, query: Floats, n: int) -> Ints:
        """Rows of (about) the ``n`` texts nearest ``query`` (shape 1 x dim), plus the
        ``n`` nearest of the texts scanned exactly."""
        found: list[Ints] = []
        if self.index.ntotal:
            _, ids = self.index.search(query, min(n, self.index.ntotal))
            rows = self.rows[ids[0][ids[0] >= 0]]
            found.append(rows[rows >= 0])
        if len(self.fresh_rows):
            _, ids = self._fresh.search(query, min(n, len(self.fresh_rows)))
            found.append(self.fresh_rows[ids[0][ids[0] >= 0]])
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
