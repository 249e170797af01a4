"""A contrastive adapter learned from the FAQ's own phrasings: a linear map of the
frozen sentence vectors (identity plus a learned correction) that pulls an entry's
phrasings together and pushes other entries' apart (supervised contrastive loss).

Pure numpy (no autograd): full-batch gradient steps with Adam, early-stopped on
a held-out slice of the phrasings (their nearest-phrasing accuracy), so the
number of steps is learned from the FAQ at hand. Training is well under a
second for a 100-entry FAQ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]

TEMPERATURE = 0.1
RATE = 2e-3
MAX_STEPS = 60
# Early stop: the held-out slice's accuracy is checked every CHECK_EVERY steps;
# training stops after PATIENCE checks without improvement and keeps the best.
CHECK_EVERY = 5
PATIENCE = 2
VALIDATION_SHARE = 0.2
# Anchors per step at most (a random subset on large FAQs: the cost is anchors x texts).
MAX_ANCHORS = 1024
MIN_TEXTS = 20
# Phrasings x dimension above this: no adapter (each step costs about
# texts x dim x dim; 100 entries x 7 phrasings is 270,000, about 1 s in all).
MAX_WORK = 1_500_000


@dataclass(frozen=True, eq=False)
class Adapter:
    """``normalize(x @ matrix)``: the map applied to every vector of the index."""

    matrix: Floats  # dim x dim
    steps: int = 0

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Adapter)
            and self.steps == other.steps
            and np.array_equal(self.matrix, other.matrix)
        )

    def __hash__(self) -> int:
        return hash((self.steps, self.matrix.shape))

    def apply(self, vectors: Floats) -> Floats:
        """The adapted unit vectors of ``vectors`` (rows)."""
        out = np.atleast_2d(vectors).astype(np.float32) @ self.matrix
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


def _key(text: str) -> bytes:
    return hashlib.sha1(text.encode()).digest()


def train_adapter(
    vectors: Floats, labels: Sequence[int], texts: Sequence[str] = (), seed: int = 0
) -> Adapter | None:
    """Learn the adapter on phrasing ``vectors`` labelled by entry; ``texts`` (same
    order) pick the validation slice deterministically. None: too little to learn."""
    x = np.asarray(vectors, dtype=np.float32)
    y = np.asarray(labels, dtype=np.int64)
    n, dim = x.shape if x.ndim == 2 else (0, 0)
    if n < MIN_TEXTS or len(np.unique(y)) < 2 or n * dim > MAX_WORK:
        return None
    # Validation: phrasings whose entry keeps at least two others in training.
    order = sorted(range(n), key=lambda i: _key(texts[i]) if texts else i.to_bytes(4, "little"))
    counts = np.bincount(y)
    val: list[int] = []
    left = counts.copy()
    for i in order:
        if len(val) >= VALIDATION_SHARE * n:
            break
        if left[y[i]] >= 4:
            val.append(i)
            left[y[i]] -= 1
    val_mask = np.zeros(n, dtype=bool)
    val_mask[val] = True
    train = np.flatnonzero(~val_mask)
    xt, yt = x[train], y[train]
    same = yt[:, None] == yt[None, :]
    np.fill_diagonal(same, False)
    has_pos = same.any(axis=1)
    if has_pos.sum() < 2:
        return None
    rng = np.random.default_rng(seed)
    a = np.zeros((dim, dim), dtype=np.float32)
    m = np.zeros_like(a)
    v = np.zeros_like(a)
    eye = np.eye(dim, dtype=np.float32)
    best_a, best_acc, best_step, stale = a.copy(), _accuracy(x, y, val, train, eye), 0, 0
    anchors_all = np.flatnonzero(has_pos)
    for step in range(1, MAX_STEPS + 1):
        anchors = anchors_all
        if len(anchors) > MAX_ANCHORS:
            anchors = rng.choice(anchors, MAX_ANCHORS, replace=False)
        grad = _grad(xt, eye + a, anchors, same)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        mh = m / (1 - 0.9**step)
        vh = v / (1 - 0.999**step)
        a -= RATE * mh / (np.sqrt(vh) + 1e-8)
        if step % CHECK_EVERY == 0:
            acc = _accuracy(x, y, val, train, eye + a) if val else 0.0
            if acc > best_acc + 1e-9:
                best_a, best_acc, best_step, stale = a.copy(), acc, step, 0
            else:
                stale += 1
                if stale >= PATIENCE:
                    break
    if best_step == 0:
        return None
    return Adapter(np.ascontiguousarray(eye + best_a, dtype=np.float32), best_step)


def _grad(
    x: Floats, w: Floats, anchors: npt.NDArray[np.int64], same: npt.NDArray[np.bool_]
) -> Floats:
    """Gradient of the supervised contrastive loss (anchors against all texts) in ``w``."""
    yv = x @ w
    r = np.linalg.norm(yv, axis=1, keepdims=True)
    z = yv / np.maximum(r, 1e-12)
    s = (z[anchors] @ z.T) / TEMPERATURE  # anchors x texts
    s[np.arange(len(anchors)), anchors] = -np.inf
    s -= s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)
    pos = same[anchors].astype(np.float32)
    pos /= pos.sum(axis=1, keepdims=True)
    g = (p - pos) / (len(anchors) * TEMPERATURE)  # d loss / d (z_a . z_j)
    dz = np.zeros_like(z)
    dz[anchors] += g @ z
    dz += g.T @ z[anchors]
    dy = (dz - z * np.sum(z * dz, axis=1, keepdims=True)) / np.maximum(r, 1e-12)
    out: Floats = (x.T @ dy).astype(np.float32)
    return out


def _accuracy(
    x: Floats, y: npt.NDArray[np.int64], val: list[int], train: npt.NDArray[np.int64], w: Floats
) -> float:
    """Nearest training phrasing's entry accuracy of the validation phrasings under ``w``."""
    if not val:
        return 0.0
    z = x @ w
    z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    sims = z[val] @ z[train].T
    return float(np.mean(y[train][np.argmax(sims, axis=1)] == y[val]))
