"""Benchmark the FAQ index: build time and per-query search/decide latency at
100, 1,000 and 10,000 entries (MiniLM, one torch thread). Prints figures only.

Entries are generated from the BANKING77 dev FAQ texts with variations
(prefixes, suffixes, recombined paraphrases), so they look like real FAQ text.

    .venv/bin/python bench/faq_search.py [--sizes 100,1000,10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from faq_index import FaqEntry, FaqIndex, load_encoder, load_faq_files, load_queries

DATA = Path(__file__).resolve().parent.parent / "tests" / "faq_index" / "data" / "banking77-dev"
PREFIXES = ["", "Hi, ", "Please tell me: ", "Quick question - ", "Hello! "]
SUFFIXES = ["", " today", " right now", " again", " on the app", " for my account"]


def synthetic_entries(base: list[FaqEntry], n: int, seed: int = 7) -> list[FaqEntry]:
    """``n`` entries made from ``base`` texts with variations."""
    rng = random.Random(seed)
    out: list[FaqEntry] = []
    for i in range(n):
        src = base[i % len(base)]
        para = list(src.paraphrases.get("en", ()))
        rng.shuffle(para)
        variant = i // len(base)

        def vary(text: str, variant: int = variant) -> str:
            if variant == 0:
                return text
            return f"{rng.choice(PREFIXES)}{text.rstrip('?.')}{rng.choice(SUFFIXES)} ({variant})"

        out.append(
            FaqEntry(
                id=f"{src.id}-{variant}",
                question={"en": vary(src.question["en"])},
                answer={"en": vary(src.answer["en"])},
                paraphrases={"en": tuple(vary(p) for p in para)},
            )
        )
    return out


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    base = load_faq_files(DATA / "faq.yml")
    queries = [q.text for q in load_queries(DATA / "queries.jsonl")][: args.queries]
    encoder = load_encoder(None)
    encoder.encode(["warm up"])
    print(f"model {encoder.name}; {len(queries)} queries per size; times in ms")
    print(
        f"{'entries':>8} {'texts':>7} {'build s':>8} {'rebuild s':>9} "
        f"{'search p50':>10} {'p99':>7} {'decide p50':>10} {'p99':>7}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        entries = synthetic_entries(base, size)
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            index = FaqIndex.build(entries, encoder, cache_dir=Path(cache))
            build = time.perf_counter() - start
            start = time.perf_counter()
            FaqIndex.build(entries, encoder, cache_dir=Path(cache))  # all cached
            rebuild = time.perf_counter() - start
        texts = sum(len(e.texts()) for e in entries)
        search_ms, decide_ms = [], []
        for text in queries:  # decide first: both measured with a fresh query embedding
            t0 = time.perf_counter()
            index.decide(text + " ", "en")
            decide_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            index.search(text + "  ", "en", k=5)
            search_ms.append((time.perf_counter() - t0) * 1000)
        print(
            f"{size:>8} {texts:>7} {build:>8.1f} {rebuild:>9.1f} "
            f"{statistics.median(search_ms):>10.1f} {_pct(search_ms, 99):>7.1f} "
            f"{statistics.median(decide_ms):>10.1f} {_pct(decide_ms, 99):>7.1f}"
        )


if __name__ == "__main__":
    main()
