"""Benchmark live FAQ updates: the time from saving an entry to the new answer being
served, on the saving replica (incremental rebuild + swap) and on a second replica
that polls the database's change marker (the app's FaqReloader, 1 s by default),
while both replicas answer queries (each one new, so encoded and searched) from
other threads. Prints figures only.

Entries: the sample bank FAQ (data/faq), grown to each size with numbered variants.

    .venv/bin/python bench/faq_reload.py [--sizes 34,1000] [--saves 5] [--model NAME]
        [--interval 1.0] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--cache .faro/cache/bench]

``--cache`` keeps the embeddings of the generated entries between runs (the first
build at 1,000 entries encodes ~10,000 texts: minutes on a small machine); the
edited texts are new on every run, so save-to-served still includes encoding them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa

from bot.db import Database
from bot.faq_service import FaqReloader, FaqService
from bot.faqdb.store import FaqStore
from bot.store import AppStore
from faq_index import Encoder, FaqEntry, load_encoder, load_faq_files

BANK = Path(__file__).resolve().parent.parent / "data" / "faq"
TARGET = FaqEntry(
    id="bench-target",
    question={"en": "Is the overnight standing order to my landlord still going out?"},
    answer={"en": "Standing orders run as usual tonight."},
)


def grown(base: list[FaqEntry], n: int) -> list[FaqEntry]:
    """``base`` plus numbered variants of its entries, ``n`` in all."""
    out = list(base[:n])
    i = 0
    while len(out) < n:
        src = base[i % len(base)]
        k = i // len(base) + 1
        out.append(
            replace(
                src,
                id=f"{src.id}-v{k}",
                question={lang: f"{q} (variant {k})" for lang, q in src.question.items()},
                paraphrases={
                    lang: tuple(f"{p} {k}" for p in items)
                    for lang, items in src.paraphrases.items()
                },
                answer={lang: f"{a} [{k}]" for lang, a in src.answer.items()},
            )
        )
        i += 1
    return out


@contextlib.contextmanager
def database(postgres: str | None) -> Iterator[str]:
    """A fresh SQLite file, or a fresh schema on the given PostgreSQL server."""
    if postgres is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/faro.db"
        return
    schema = f"faro_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{postgres}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def answer_of(service: FaqService, question: str) -> str | None:
    """The English answer the customer gets: outright, or behind the first choice button."""
    decision = service.decide(question, "en")
    if decision.best is None:
        return None
    return decision.best.entry.answer["en"]


def run_size(
    entries: list[FaqEntry],
    encoder: Encoder,
    url: str,
    saves: int,
    interval: float,
    cache_dir: Path | None = None,
) -> dict[str, float]:
    """Seed a database, start two replicas, save ``saves`` edits and time each."""
    with tempfile.TemporaryDirectory() as tmp:
        cache = cache_dir or Path(tmp)
        dbs = [Database.open(url), Database.open(url)]  # two replicas, one database
        stores = [AppStore(db.engine) for db in dbs]
        faq_a, faq_b = (FaqStore(db.engine) for db in dbs)
        faq_a.seed(entries)
        t = time.perf_counter()
        a = FaqService.from_store(faq_a, encoder=encoder, store=stores[0], cache_dir=Path(cache))
        build_s = time.perf_counter() - t
        b = FaqService.from_store(faq_b, encoder=encoder, store=stores[1], cache_dir=Path(cache))
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        reloaders = [FaqReloader(s, interval_s=interval) for s in (a, b)]  # as in the app
        for reloader in reloaders:
            asyncio.run_coroutine_threadsafe(reloader.start(), loop).result()

        target = entries[-1]  # the unique bench entry: no variant can outrank it
        question = target.question["en"]
        stop = threading.Event()
        latencies: list[float] = []
        errors: list[str] = []

        def ask(service: FaqService) -> None:
            n = 0
            while not stop.is_set():
                n += 1  # a new question every time: no remembered query vector or matches
                q0 = time.perf_counter()
                try:
                    service.decide(f"{question} {n}", "en")
                except Exception as exc:  # noqa: BLE001 - counted
                    errors.append(type(exc).__name__)
                latencies.append(time.perf_counter() - q0)
                time.sleep(0.005)

        askers = [threading.Thread(target=ask, args=(s,), daemon=True) for s in (a, b)]
        for th in askers:
            th.start()
        local, remote, rebuild = [], [], []
        try:
            for k in range(saves):
                time.sleep(0.25 + (k * 0.37) % interval)  # vary the phase against the poll tick
                stamp = f"{k} {uuid.uuid4().hex[:8]}"  # a new text: encoded on every run
                new = dict(target.answer) | {"en": f"Update {stamp}: {target.answer['en']}"}
                edited = replace(target, answer=new)
                t0 = time.perf_counter()
                faq_a.update(edited, actor="bench")
                refresher = threading.Thread(target=a.refresh)  # what the admin does on save
                refresher.start()
                while answer_of(a, question) != new["en"]:
                    if time.perf_counter() - t0 > 30:
                        raise RuntimeError("replica a never served the change")
                    time.sleep(0.005)
                local.append(time.perf_counter() - t0)
                refresher.join()
                rebuild.append(time.perf_counter() - t0)
                while answer_of(b, question) != new["en"]:
                    if time.perf_counter() - t0 > 30:
                        raise RuntimeError("replica b never served the change")
                    time.sleep(0.005)
                remote.append(time.perf_counter() - t0)
        finally:
            stop.set()
            for th in askers:
                th.join()
            for reloader in reloaders:
                asyncio.run_coroutine_threadsafe(reloader.stop(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            for s in stores:
                s.dispose()
    lat = sorted(latencies)
    return {
        "entries": len(entries),
        "texts": sum(len(e.texts()) for e in entries),
        "build_s": build_s,
        "refresh_ms_p50": statistics.median(rebuild) * 1000,
        "local_ms_p50": statistics.median(local) * 1000,
        "local_ms_max": max(local) * 1000,
        "remote_ms_p50": statistics.median(remote) * 1000,
        "remote_ms_max": max(remote) * 1000,
        "queries": len(lat),
        "query_ms_p50": lat[len(lat) // 2] * 1000,
        "query_ms_p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
        "errors": len(errors),
    }


def main() -> None:
    """Run the benchmark and print one line per FAQ size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="34,1000")
    parser.add_argument("--saves", type=int, default=5)
    parser.add_argument("--model", default=None, help="default: the packaged all-MiniLM-L6-v2")
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval, seconds")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (default SQLite)")
    parser.add_argument("--cache", type=Path, default=None, help="embedding cache to reuse")
    args = parser.parse_args()
    encoder = load_encoder(args.model)
    base = load_faq_files([BANK])
    print(f"encoder {encoder.name}; poll interval {args.interval} s; {args.saves} saves per size")
    print(
        "entries  texts  build_s  refresh_ms  save->served here p50/max ms"
        "  save->served other replica p50/max ms  queries  query p50/p99 ms  errors"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        with database(args.postgres) as url:
            entries = grown(base, size - 1) + [TARGET]
            r = run_size(entries, encoder, url, args.saves, args.interval, args.cache)
        print(
            f"{r['entries']:>7}  {r['texts']:>5}  {r['build_s']:>7.1f}"
            f"  {r['refresh_ms_p50']:>10.0f}"
            f"  {r['local_ms_p50']:>12.0f} / {r['local_ms_max']:<6.0f}"
            f"  {r['remote_ms_p50']:>24.0f} / {r['remote_ms_max']:<6.0f}"
            f"  {r['queries']:>7}  {r['query_ms_p50']:>6.1f} / {r['query_ms_p99']:<6.1f}"
            f"  {r['errors']:>6}",
            flush=True,
        )


if __name__ == "__main__":
    main()
