"""Mean-pooled sentence-transformers models (the packaged all-MiniLM-L6-v2) served
through ONNX Runtime: same vectors as :class:`~faq_index.encoders.SentenceTransformerEncoder`,
less CPU per query, and no torch or sentence-transformers in the serving process.

The model is exported once (``python -m faq_index.onnx_export``, which needs torch) into
a folder of a cache keyed by the model's files and the exporter's versions; serving
needs only ``onnxruntime``, ``tokenizers`` and numpy. :func:`load_onnx_encoder`
exports on first use, in a child process so that torch never enters this one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from faq_index.encoders import (
    DEFAULT_MODEL_NAME,
    Vectors,
    _packaged_model_path,
    normalize_rows,
)
from faq_index.errors import EncoderError

logger = logging.getLogger(__name__)

__all__ = ["OnnxEncoder", "load_onnx_encoder", "onnx_folder"]

# Bump when the export (graph, files, meta) changes: old folders are then ignored.
EXPORT_FORMAT = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"
# The packages whose versions shape the exported graph (part of the cache key).
_EXPORTERS = ("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime")
_BATCH = 64  # texts per forward pass, as the torch encoder
_SMALL = 1 << 20  # model files below this size are hashed by content, larger by size+mtime
_EXPORT_TIMEOUT_S = 900
_MEAN = "pooling_mode_mean_tokens"
_SLACK = 4  # tokens of padding a text may get in its length group


class OnnxEncoder:
    """An exported model folder (``model.onnx``, ``tokenizer.json``, ``meta.json``) on
    ONNX Runtime's CPU provider: ``threads`` intra-op threads, one inter-op thread,
    sequential execution, every graph optimisation.

    Raises :class:`EncoderError` when the folder is incomplete or its model file is
    not the one exported (truncated, corrupted).
    """

    def __init__(self, folder: Path, name: str, *, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EncoderError(f"onnxruntime or tokenizers is not installed ({exc})") from exc
        meta = _read_meta(folder)
        model = folder / MODEL_FILE
        if _file_sha256(model) != meta.get("sha256"):
            raise EncoderError(f"{model} is damaged (its checksum is not the exported one)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only
        try:
            self._session = ort.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        except Exception as exc:  # library errors vary; translate at the boundary
            raise EncoderError(f"cannot load the ONNX model in {folder}: {exc}") from exc
        # The saved tokenizer may carry its own padding/truncation (fixed lengths): the
        # model's max length, as sentence-transformers truncates; padding is done here.
        tokenizer.no_padding()
        tokenizer.no_truncation()
        tokenizer.enable_truncation(max_length=int(meta["max_seq_length"]))
        self._tokenizer = tokenizer
        self._pad_id = int(meta["pad_id"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._dim = int(meta["dim"])
        self._name = name
        self.folder = folder

    @property
    def name(self) -> str:
        """The model's name, the same as the torch encoder's (its vectors are the same)."""
        return self._name

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return self._dim

    def encode(self, texts: list[str]) -> Vectors:
        """Return unit vectors for ``texts`` (batched)."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.concatenate(
            [self._forward(texts[i : i + _BATCH]) for i in range(0, len(texts), _BATCH)]
        )

    def _forward(self, texts: list[str]) -> Vectors:
        # Texts of about the same length run together: padding a 10-token question to
        # a 60-token one of the same batch costs the padded tokens too (measured: a
        # batch of 32 real questions 2.6x the CPU of the same texts in length groups).
        # Padding changes no vector (masked), so the groups change only the cost.
        encodings = self._tokenizer.encode_batch(texts)
        lengths = [len(e.ids) for e in encodings]
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and lengths[order[end]] <= lengths[order[start]] + _SLACK:
                end += 1
            group = order[start:end]
            out[group] = self._run([encodings[i] for i in group])
            start = end
        return out

    def _run(self, encodings: list[Any]) -> Vectors:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self._session.run(None, {k: feeds[k] for k in self._inputs})[0]
        weights = mask.astype(np.float32)
        pooled = np.einsum("bth,bt->bh", hidden, weights)
        pooled /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        return normalize_rows(pooled)


def load_onnx_encoder(
    model: str | None,
    cache_dir: Path,
    *,
    threads: int = 1,
    export: bool = True,
    shipped: Sequence[Path] = (),
) -> OnnxEncoder:
    """The ONNX encoder of ``model`` (None: the packaged all-MiniLM-L6-v2; else a local
    sentence-transformers folder), from ``cache_dir``, or else from a ``shipped``
    (read-only) cache folder, e.g. one a container image was built with.

    When the export is missing, or its model file is damaged, it is exported into
    ``cache_dir`` (once; needs torch, in a child process) unless ``export`` is false.
    Raises :class:`EncoderError` (one sentence) when the model cannot be served this
    way: not mean-pooled, not local, export failed, onnxruntime missing.
    """
    model_dir, name = _resolve(model)
    folder = onnx_folder(model_dir, cache_dir)
    if not folder.is_dir():
        for other in shipped:
            ready = other / folder.name
            if ready.is_dir() and ready != folder:
                try:
                    return OnnxEncoder(ready, name, threads=threads)
                except EncoderError as exc:
                    logger.warning("%s; not used", exc)
    if folder.is_dir():
        try:
            return OnnxEncoder(folder, name, threads=threads)
        except EncoderError as exc:
            if not export:
                raise
            logger.warning("%s; exporting it again", exc)
            shutil.rmtree(folder, ignore_errors=True)
    elif not export:
        raise EncoderError(f"no ONNX export of {name} in {cache_dir}")
    logger.info("exporting %s to ONNX once, into %s (needs torch; about a minute)", name, folder)
    run_export(model_dir, folder)
    return OnnxEncoder(folder, name, threads=threads)


def run_export(model_dir: Path, folder: Path) -> None:
    """Export ``model_dir`` into ``folder`` in a child process (torch stays out of this one)."""
    command = [sys.executable, "-m", "faq_index.onnx_export", str(model_dir), str(folder)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_EXPORT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EncoderError(f"the ONNX export of {model_dir} did not finish: {exc}") from exc
    if done.returncode != 0 or not folder.is_dir():
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit status {done.returncode}"
        raise EncoderError(f"the ONNX export of {model_dir} failed: {why}")


def onnx_folder(model_dir: Path, cache_dir: Path) -> Path:
    """Where the export of ``model_dir`` lives under ``cache_dir``: a folder named by a
    hash of the model's files (small ones by content, weights by name, size and
    modification time), the export format and the exporting packages' versions."""
    digest = hashlib.sha256(f"faro-onnx-{EXPORT_FORMAT}".encode())
    for package in _EXPORTERS:
        try:
            installed = version(package)
        except PackageNotFoundError:
            installed = "-"
        digest.update(f"\0{package}={installed}".encode())
    files = sorted(p for p in model_dir.rglob("*") if p.is_file() and ".cache" not in p.parts)
    if not files:
        raise EncoderError(f"{model_dir} holds no model files")
    for path in files:
        stat = path.stat()
        digest.update(f"\0{path.relative_to(model_dir)}\0{stat.st_size}".encode())
        if stat.st_size < _SMALL:
            digest.update(path.read_bytes())
        else:
            digest.update(str(stat.st_mtime_ns).encode())
    slug = model_dir.name.replace(" ", "_")[:40]
    return cache_dir / f"{slug}-{digest.hexdigest()[:16]}"


def mean_pooled(model_dir: Path) -> bool:
    """True when ``model_dir`` is a sentence-transformers folder of a transformer and
    mean pooling (and optionally normalisation), read from its files (no torch)."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return False
        pooling_path = model_dir / str(modules[1]["path"]) / "config.json"
        config = json.loads(pooling_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    on = {k for k, v in config.items() if k.startswith("pooling_mode_") and v is True}
    mode = config.get("pooling_mode")
    return on == {_MEAN} or (mode == "mean" and on <= {_MEAN})


def _resolve(model: str | None) -> tuple[Path, str]:
    """(model folder, encoder name) as :func:`~faq_index.encoders.load_encoder` names it."""
    if model is None:
        model_dir, name = Path(_packaged_model_path()), DEFAULT_MODEL_NAME
    else:
        path = Path(model).expanduser()
        if not path.is_dir():
            raise EncoderError(f"{model!r} is not a local model folder (ONNX serves local ones)")
        model_dir, name = path.resolve(), f"path:{path.resolve()}"
    if not mean_pooled(model_dir):
        raise EncoderError(f"{name} is not a mean-pooled sentence-transformers model")
    return model_dir, name


def _read_meta(folder: Path) -> dict[str, Any]:
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EncoderError(f"the ONNX export in {folder} is incomplete ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != EXPORT_FORMAT:
        raise EncoderError(f"the ONNX export in {folder} is of another format")
    return meta


def _file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()
