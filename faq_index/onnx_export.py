"""Export a mean-pooled sentence-transformers model to ONNX for :mod:`faq_index.onnx_encoder`.

``python -m faq_index.onnx_export MODEL_DIR FOLDER`` (what ``load_onnx_encoder`` runs
when the export is missing). Needs torch, sentence-transformers, onnx and onnxruntime:

1. ``torch.onnx.export`` of the transformer (TorchScript exporter): input_ids,
   attention_mask, token_type_ids -> last_hidden_state, batch and sequence dynamic;
2. ONNX Runtime's transformer optimizer fuses attention, LayerNorm and GELU (fp32:
   int8 cost quality, docs/quality.md), with heads and hidden size from the model's
   config;
3. the fast tokenizer is saved as ``tokenizer.json``, the figures the encoder needs
   (dimension, max length, padding token, model checksum) as ``meta.json``;
4. the export is checked against the torch forward pass on a few texts (cosine
   >= 0.9999 each) and only then moved into place (a temporary folder renamed, so a
   reader never sees half an export and two exporters never mix files).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from faq_index.encoders import _mean_pooled_parts, mean_pooled
from faq_index.errors import EncoderError
from faq_index.onnx_encoder import (
    EXPORT_FORMAT,
    META_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    OnnxEncoder,
    _file_sha256,
)

_CHECK_TEXTS = [
    "why was my card declined?",
    "¿Cuándo vuelve el servicio?",
    "",
    "🔥🔥",
    "the app keeps crashing when I open it " * 40,
]
_OPSET = 17


def export(model_dir: Path, folder: Path) -> None:
    """Export ``model_dir`` into ``folder`` (raises :class:`EncoderError`)."""
    from sentence_transformers import SentenceTransformer

    # eager attention: the pattern ONNX Runtime's optimizer fuses into its Attention
    # operator (the SDPA path exports as loose MatMul/Softmax nodes)
    st_model = SentenceTransformer(
        str(model_dir),
        device="cpu",
        local_files_only=True,
        model_kwargs={"attn_implementation": "eager"},
    )
    parts = _mean_pooled_parts(st_model)
    if parts is None:
        raise EncoderError(f"{model_dir} is not a transformer with mean pooling")
    net, tokenizer, max_len = parts
    if not getattr(tokenizer, "is_fast", False):
        raise EncoderError(f"{model_dir} has no fast tokenizer (tokenizer.json)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    work.chmod(0o755)  # as a folder made by mkdir (mkdtemp makes it private)
    try:
        raw = work / "raw.onnx"
        inputs = _export_graph(net, tokenizer, raw)
        _optimize(raw, work / MODEL_FILE, net.config)
        raw.unlink()
        tokenizer.backend_tokenizer.save(str(work / TOKENIZER_FILE))
        meta = {
            "format": EXPORT_FORMAT,
            "dim": _dimension(st_model),
            "max_seq_length": max_len,
            "pad_id": int(tokenizer.pad_token_id),
            "pad_token": str(tokenizer.pad_token),
            "inputs": inputs,
            "sha256": _file_sha256(work / MODEL_FILE),
        }
        (work / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        _check(OnnxEncoder(work, "check"), net, tokenizer, max_len)
        try:
            os.rename(work, folder)
        except OSError:
            if not (folder / META_FILE).is_file():  # another exporter won: keep its folder
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _dimension(st_model: Any) -> int:
    getter = (
        getattr(st_model, "get_embedding_dimension", None)
        or st_model.get_sentence_embedding_dimension
    )
    return int(getter() or 0)


def _export_graph(net: Any, tokenizer: Any, path: Path) -> list[str]:
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    feats = tokenizer(
        ["a short question", "and a somewhat longer question than that"],
        padding=True,
        return_tensors="pt",
    )
    if "token_type_ids" not in feats:
        feats["token_type_ids"] = torch.zeros_like(feats["input_ids"])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    # The wrapper in eval mode: the exporter restores the module's mode afterwards, and
    # a wrapper left in training mode would switch the model's dropout on.
    wrapper = LastHidden(net).eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            tuple(feats[n] for n in names),
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=_OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    net.eval()
    return names


def _optimize(raw: Path, out: Path, config: Any) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimized = optimize_model(
            str(raw),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=0,  # the fusions only; the session applies ONNX Runtime's own at load
        )
    fused = optimized.get_fused_operator_statistics()
    print(f"fused operators: {json.dumps(fused)}", file=sys.stderr)
    optimized.save_model_to_file(str(out))


def _check(encoder: OnnxEncoder, net: Any, tokenizer: Any, max_len: int) -> None:
    reference = mean_pooled(net, tokenizer, max_len, _CHECK_TEXTS)
    cosine = np.sum(encoder.encode(_CHECK_TEXTS) * reference, axis=1)
    if float(cosine.min()) < 0.9999:
        raise EncoderError(f"the ONNX export differs from torch (cosine {cosine.min():.5f})")


def main(argv: list[str]) -> int:
    """``python -m faq_index.onnx_export MODEL_DIR FOLDER``."""
    if len(argv) != 2:
        print("usage: python -m faq_index.onnx_export MODEL_DIR FOLDER", file=sys.stderr)
        return 2
    try:
        export(Path(argv[0]), Path(argv[1]))
    except Exception as exc:  # one line for the parent's log
        print(f"error: {type(exc).__name__}: {exc}".replace("\n", " ")[:500], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
