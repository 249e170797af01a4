"""Embedding cache keyed by content hash (model name + text), so restarts do not re-embed.

Vectors live in append-only ``.npz`` packs under ``cache_dir/<model>/``; each
build writes at most one new pack (atomically), and the cache compacts itself
when packs pile up.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from faq_index.encoders import Encoder, Vectors

logger = logging.getLogger(__name__)

_MAX_PACKS = 16
_ENCODE_BATCH = 256

Progress = Callable[[int], None]


def text_key(model_name: str, text: str) -> str:
    """The cache key of one text under one model."""
    return hashlib.sha256(f"{model_name}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """Content-addressed vectors for one encoder, in memory and optionally on disk."""

    def __init__(self, encoder: Encoder, cache_dir: Path | None = None) -> None:
        self.encoder = encoder
        self._vectors: dict[str, Vectors] = {}
        self._lock = threading.Lock()
        self._dir: Path | None = None
        if cache_dir is not None:
            slug = re.sub(r"[^A-Za-z0-9._-]+", "_", encoder.name).strip("_")[-80:]
            self._dir = Path(cache_dir) / f"{slug}-{encoder.dim}"
            self._load_packs()

    def __len__(self) -> int:
        return len(self._vectors)

    def embed(self, texts: list[str], *, progress: Progress | None = None) -> Vectors:
        """Return vectors for ``texts``, encoding only those not cached yet."""
        name = self.encoder.name
        keys = [text_key(name, t) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if progress is not None and len(keys) > len(missing):
            progress(len(keys) - len(missing))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            fresh: dict[str, Vectors] = {}
            for start in range(0, len(missing), _ENCODE_BATCH):
                batch = missing[start : start + _ENCODE_BATCH]
                vectors = self.encoder.encode([by_key[k] for k in batch])
                fresh.update(zip(batch, vectors, strict=True))
                if progress is not None:
                    progress(len(batch))
            with self._lock:
                self._vectors.update(fresh)
            self._write_pack(fresh)
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        with self._lock:
            return np.stack([self._vectors[k] for k in keys]).astype(np.float32, copy=False)

    def _load_packs(self) -> None:
        assert self._dir is not None
        if not self._dir.is_dir():
            return
        for pack in sorted(self._dir.glob("pack-*.npz")):
            try:
                with np.load(pack, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
                if vectors.ndim != 2 or vectors.shape[1] != self.encoder.dim:
                    raise ValueError(f"dimension {vectors.shape} does not match the model")
            except (OSError, KeyError, ValueError) as exc:
                # A damaged pack only costs re-encoding; never fail the build for it.
                logger.warning("ignoring unreadable embedding cache pack %s: %s", pack, exc)
                continue
            self._vectors.update(zip((str(k) for k in keys), vectors, strict=True))

    def _write_pack(self, fresh: dict[str, Vectors]) -> None:
        if self._dir is None or not fresh:
            return
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            packs = sorted(self._dir.glob("pack-*.npz"))
            if len(packs) >= _MAX_PACKS:
                with self._lock:
                    snapshot = dict(self._vectors)
                kept = self._save(snapshot)
                for old in packs:
                    if old != kept:
                        old.unlink(missing_ok=True)
            else:
                self._save(fresh)
        except OSError as exc:
            logger.warning("cannot write the embedding cache under %s: %s", self._dir, exc)

    def _save(self, vectors: dict[str, Vectors]) -> Path:
        assert self._dir is not None
        keys = sorted(vectors)
        digest = hashlib.sha256("".join(keys).encode()).hexdigest()[:16]
        fd, tmp = tempfile.mkstemp(dir=self._dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(
                    handle,
                    keys=np.array(keys),
                    vectors=np.stack([vectors[k] for k in keys]).astype(np.float32),
                )
            target = self._dir / f"pack-{digest}.npz"
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target
