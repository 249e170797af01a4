"""CPU per query of the default encoder (all-MiniLM-L6-v2) on torch and on ONNX Runtime,
one thread each, in the same run, on real unseen questions (bench/questions/unseen.jsonl).
Prints a table; figures only.

    .venv/bin/python bench/encoder_runtime.py [--batches 1,4,16,32] [--texts 512] [--rounds 3]

For each batch size the questions are encoded in batches of that size, torch and ONNX
alternating round by round (the machine is shared: each figure is the best round's
process CPU time, ``time.process_time``, divided by the number of questions). The
ONNX export is made (once) under ``.faro/cache/bench-onnx``. Also prints the lowest
cosine between the two runtimes' vectors of every question.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from faq_index import Encoder, load_encoder
from faq_index.onnx_encoder import load_onnx_encoder

ROOT = Path(__file__).resolve().parent.parent
UNSEEN = ROOT / "bench" / "questions" / "unseen.jsonl"
CACHE = ROOT / ".faro" / "cache" / "bench-onnx"


def cpu_ms_per_text(encoder: Encoder, texts: list[str], batch: int) -> float:
    """Process CPU milliseconds per text, encoding ``texts`` in batches of ``batch``."""
    start = time.process_time()
    for i in range(0, len(texts), batch):
        encoder.encode(texts[i : i + batch])
    return (time.process_time() - start) * 1000 / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", default="1,4,16,32")
    parser.add_argument("--texts", type=int, default=512, help="questions per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",") if b]
    lines = UNSEEN.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines][: args.texts]

    torch.set_num_threads(1)  # as the app does (bot.wiring.configure_process)
    encoders: dict[str, Encoder] = {
        "torch": load_encoder(None),
        "onnx": load_onnx_encoder(None, CACHE, threads=1),
    }
    for encoder in encoders.values():  # warm-up: first-call allocations, lazy init
        encoder.encode(texts[:32])
    a, b = encoders["torch"].encode(texts), encoders["onnx"].encode(texts)
    cosine = float(np.min(np.sum(a * b, axis=1)))
    lengths = [len(t) for t in texts]
    print(
        f"{len(texts)} unseen questions ({min(lengths)}-{max(lengths)} chars, "
        f"median {int(np.median(lengths))}), one thread, best of {args.rounds} rounds; "
        f"lowest cosine torch vs onnx: {cosine:.7f}"
    )
    print(f"{'batch':>5} | {'torch ms CPU/q':>14} | {'onnx ms CPU/q':>13} | {'torch/onnx':>10}")
    print(f"{'-' * 5}-+-{'-' * 14}-+-{'-' * 13}-+-{'-' * 10}")
    for batch in batches:
        best = {name: float("inf") for name in encoders}
        for _ in range(args.rounds):
            for name, encoder in encoders.items():
                best[name] = min(best[name], cpu_ms_per_text(encoder, texts, batch))
        ratio = best["torch"] / best["onnx"]
        print(f"{batch:>5} | {best['torch']:>14.2f} | {best['onnx']:>13.2f} | {ratio:>9.2f}x")


if __name__ == "__main__":
    main()
