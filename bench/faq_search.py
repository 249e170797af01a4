"""Benchmark the FAQ index: build time, one live edit, and per-query decide() latency
at 100, 1,000 and 10,000 entries (the default encoder, one torch thread): a new
question (encoded and searched), the search alone (query vector known), and a
repeated question (the index remembers its matches). Prints figures only.

Entries are generated from the BANKING77 dev FAQ texts with variations
(prefixes, suffixes, recombined paraphrases), so they look like real FAQ text.
Embeddings of the synthetic texts are cached under ``.faro/cache/bench``: the
first full run encodes ~80,000 texts (tens of minutes on a small machine),
later runs only load them. ``--quick`` never encodes the synthetic texts: each
one gets the vector of the base text it was made from plus a small
deterministic perturbation (same index shape and size, so search costs are
the same; only the queries are really encoded).

    .venv/bin/python bench/faq_search.py [--quick] [--sizes 100,1000,10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from faq_index import FaqEntry, FaqIndex, load_encoder, load_faq_files, load_queries
from faq_index.encoders import Encoder, Vectors, normalize_rows
from faq_index.incremental import with_changes_fast

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "faq_index" / "data" / "banking77-dev"
CACHE = ROOT / ".faro" / "cache" / "bench"
PREFIXES = ["", "Hi, ", "Please tell me: ", "Quick question - ", "Hello! "]
SUFFIXES = ["", " today", " right now", " again", " on the app", " for my account"]
NOISE = 0.15


def synthetic_entries(
    base: list[FaqEntry], n: int, seed: int = 7
) -> tuple[list[FaqEntry], dict[str, str]]:
    """``n`` entries made from ``base`` texts with variations, and variant -> base text."""
    rng = random.Random(seed)
    out: list[FaqEntry] = []
    origin: dict[str, str] = {}
    for i in range(n):
        src = base[i % len(base)]
        para = list(src.paraphrases.get("en", ()))
        rng.shuffle(para)
        variant = i // len(base)

        def vary(text: str, variant: int = variant) -> str:
            if variant == 0:
                made = text
            else:
                made = (
                    f"{rng.choice(PREFIXES)}{text.rstrip('?.')}{rng.choice(SUFFIXES)} ({variant})"
                )
            origin[made] = text
            return made

        out.append(
            FaqEntry(
                id=f"{src.id}-{variant}",
                question={"en": vary(src.question["en"])},
                answer={"en": vary(src.answer["en"])},
                paraphrases={"en": tuple(vary(p) for p in para)},
            )
        )
    return out, origin


class DerivedEncoder:
    """Vectors of synthetic texts derived from their base text's real vector (--quick)."""

    def __init__(self, real: Encoder, origin: dict[str, str]) -> None:
        self._real = real
        self._origin = origin
        self._base: dict[str, Vectors] = {}

    @property
    def name(self) -> str:
        """Distinct from the real model, so derived vectors never enter its cache."""
        return f"derived:{self._real.name}"

    @property
    def dim(self) -> int:
        """The real model's dimension."""
        return self._real.dim

    def encode(self, texts: list[str]) -> Vectors:
        """Base vector plus a perturbation seeded by the text."""
        bases = [self._origin.get(t, t) for t in texts]
        missing = sorted({b for b in bases if b not in self._base})
        if missing:
            self._base.update(zip(missing, self._real.encode(missing), strict=True))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, (text, base) in enumerate(zip(texts, bases, strict=True)):
            vec = self._base[base]
            if text != base:
                seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())
                noise = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
                vec = vec + NOISE * noise / np.sqrt(self.dim)
            out[row] = vec
        return normalize_rows(out)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="derive synthetic text vectors")
    args = parser.parse_args()
    base = load_faq_files(DATA / "faq.yml")
    queries = [q.text for q in load_queries(DATA / "queries.jsonl")][: args.queries]
    torch.set_num_threads(1)  # as the app does (bot.wiring.configure_process)
    encoder = load_encoder(None)
    encoder.encode(["warm up"])
    start = time.perf_counter()
    for text in queries[:50]:
        encoder.encode([text + " ."])
    encode_ms = (time.perf_counter() - start) * 1000 / min(50, len(queries))
    mode = "derived vectors (--quick)" if args.quick else f"real vectors, cached in {CACHE}"
    print(f"model {encoder.name}; {mode}; {len(queries)} queries per size; times in ms")
    print(f"query encoding alone: {encode_ms:.1f} ms mean")
    print(
        f"{'entries':>8} {'texts':>7} {'build s':>8} {'rebuild s':>9} {'edit ms':>8} "
        f"{'decide p50':>10} {'p99':>7} {'search p50':>10} {'p99':>7} {'repeat p50':>10}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        entries, origin = synthetic_entries(base, size)
        enc: Encoder = DerivedEncoder(encoder, origin) if args.quick else encoder
        start = time.perf_counter()
        index = FaqIndex.build(entries, enc, cache_dir=None if args.quick else CACHE)
        build = time.perf_counter() - start
        start = time.perf_counter()
        rebuilt = index.with_changes([])  # every vector known: analysis, faiss, calibration
        rebuild = time.perf_counter() - start
        index = rebuilt
        edited = replace(entries[0], answer={"en": f"{entries[0].answer['en']} (edited)"})
        start = time.perf_counter()
        with_changes_fast(index, [edited])  # a live edit, as on save (one text encoded)
        edit_ms = (time.perf_counter() - start) * 1000
        texts = sum(len(e.texts()) for e in entries)
        fresh_ms, search_ms, repeat_ms = [], [], []
        for i, text in enumerate(queries):
            query = f"{text} #{size}-{i}"  # never seen: a real query encoding each time
            t0 = time.perf_counter()
            index.decide(query, "en")
            fresh_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            index.search(query, "en", 5)  # query vector remembered: the search alone
            search_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            index.decide(query, "en")  # surge repeat: the index remembers its matches
            repeat_ms.append((time.perf_counter() - t0) * 1000)
        print(
            f"{size:>8} {texts:>7} {build:>8.1f} {rebuild:>9.1f} {edit_ms:>8.0f} "
            f"{statistics.median(fresh_ms):>10.1f} {_pct(fresh_ms, 99):>7.1f} "
            f"{statistics.median(search_ms):>10.1f} {_pct(search_ms, 99):>7.1f} "
            f"{statistics.median(repeat_ms):>10.2f}"
        )


if __name__ == "__main__":
    main()
