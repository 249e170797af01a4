"""Resident memory of the default stack (app + Rasa replicas + the action path), and of
the app alone as the FAQ grows. Prints figures only.

    .venv/bin/python bench/memory.py [--stack] [--faq-sizes 1000,10000] [--variants ...]

``--stack``: starts Rasa and the app as ``faro up`` does (its default number of Rasa
replicas, a temporary data folder), sends ``--turns`` unseen customer questions
(bench/questions/unseen.jsonl) through web chat -> app -> Rasa -> action endpoint ->
FAQ index, then reads each process's memory from ``/proc/<pid>/smaps_rollup``:

- RSS: resident pages of the process, shared ones included (``ps``'s figure);
- PSS: RSS with each shared page divided among all the processes mapping it (on a
  shared machine that includes other checkouts' Rasa using the same environment, so
  the sum over the stack understates what the stack alone would hold);
- USS: pages only this process has (what stopping it would free);
- "stack alone": the USS of every process plus each shared page once among them.

Variants run one after the other in the same invocation: ``default`` (as shipped)
and ``arena2`` (MALLOC_ARENA_MAX=2 for every process: glibc's per-thread malloc
arenas are the usual cause of Python services' RSS growing with threads), and
``torch`` (FARO_EMBEDDING_RUNTIME=torch: the query encoder on torch, not ONNX Runtime).

``--faq-sizes``: the app alone (``faro serve``, no Rasa) with a synthetic FAQ of each
size (BANKING77-derived entries, as bench/faq_search.py makes them, 3 paraphrases
each), measured once it answers /healthz. Embeddings are cached under
``.faro/cache/bench-memory`` (a first run encodes every text; a second one starts
from the cache, as a restarted replica does).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from bot.benchmark import app_sender, drive, read_questions
from bot.faqdb.files import dump_yaml
from bot.runner import default_replicas, stop
from bot.stack import ROOT, free_port, running_stack
from faq_index import load_faq_files

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faq_search import DATA, synthetic_entries  # noqa: E402 - bench/ is not a package

UNSEEN = ROOT / "bench" / "questions" / "unseen.jsonl"
CACHE = ROOT / ".faro" / "cache" / "bench-memory"
VARIANTS = {
    "default": {},
    "arena2": {"MALLOC_ARENA_MAX": "2"},
    # the query encoder's runtime (the default is onnx): torch as before issue 17
    "torch": {"FARO_EMBEDDING_RUNTIME": "torch"},
}
MB = 1024 * 1024


@dataclass(frozen=True)
class Memory:
    """One process's memory, in bytes."""

    rss: int
    pss: int
    uss: int

    def __add__(self, other: Memory) -> Memory:
        return Memory(self.rss + other.rss, self.pss + other.pss, self.uss + other.uss)


def memory(pid: int) -> Memory:
    """RSS, PSS and USS of ``pid`` from /proc/<pid>/smaps_rollup."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            fields[name] = int(parts[0]) * 1024
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return Memory(rss=fields["Rss"], pss=fields["Pss"], uss=uss)


def shared_pages(pid: int) -> dict[tuple[str, str], int]:
    """Resident shared bytes of each mapping of ``pid``, keyed by (file or kind, offset)."""
    found: dict[tuple[str, str], int] = {}
    key: tuple[str, str] | None = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        first = line.split(maxsplit=1)[0]
        if "-" in first and not first.endswith(":"):  # a mapping's header line
            parts = line.split()
            key = (parts[5] if len(parts) > 5 else f"[anon {pid} {first}]", parts[2])
        elif key is not None and first in ("Shared_Clean:", "Shared_Dirty:"):
            found[key] = found.get(key, 0) + int(line.split()[1]) * 1024
    return found


def alone(pids: list[int]) -> int:
    """Bytes the processes ``pids`` hold counting each shared page once among themselves:
    their private pages plus, per mapping, the largest resident shared part any of them
    has. Unlike the sum of PSS, this does not shrink when unrelated processes (other
    checkouts' Rasa, sharing one environment) map the same library files."""
    union: dict[tuple[str, str], int] = {}
    for pid in pids:
        for key, size in shared_pages(pid).items():
            union[key] = max(union.get(key, 0), size)
    return sum(memory(p).uss for p in pids) + sum(union.values())


def row(name: str, m: Memory) -> str:
    """One line of figures, in MiB."""
    rss, pss, uss = m.rss / MB, m.pss / MB, m.uss / MB
    return f"  {name:<22} RSS {rss:7.0f} MB   PSS {pss:7.0f} MB   USS {uss:7.0f} MB"


def measure_stack(variant: str, replicas: int, turns: int) -> None:
    """Start the default stack with ``variant``'s environment, warm it, print its memory."""
    extra = {"FARO_WEB_RATE_PER_IP": "1000000", **VARIANTS[variant]}
    saved = dict(os.environ)
    os.environ.update(VARIANTS[variant])  # Rasa's processes inherit this environment
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            _cached(Path(tmp)) as data_dir,
            running_stack(data_dir, replicas=replicas, extra_env=extra) as stack,
        ):
            send = app_sender(stack.app_url, failure_text="technical trouble")
            result = asyncio.run(
                drive(name=variant, send=send, questions=read_questions(UNSEEN),
                      conversations=20, messages=turns, repeat=False)
            )  # fmt: skip
            assert stack.app is not None
            time.sleep(2)  # let the last replies' buffers go
            app = memory(stack.app.pid)
            rasa = [memory(p.pid) for p in stack.rasa_procs]
            held = alone([stack.app.pid, *(p.pid for p in stack.rasa_procs)])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    total = app
    for m in rasa:
        total = total + m
    print(f"stack, variant {variant!r}: {replicas} Rasa replica(s), after {result.messages} "
          f"unseen turns ({result.errors} errors, {result.msg_per_s:.1f} msg/s)")  # fmt: skip
    print(row("app (+ action endpoint)", app))
    for i, m in enumerate(rasa):
        print(row(f"rasa-{i}", m))
    print(row("total", total))
    print(f"  -> the stack alone holds {held / MB:.0f} MB (private pages + each shared page "
          f"once); sum of PSS {total.pss / MB:.0f} MB (shared pages split with every process "
          f"mapping them, other stacks too); sum of RSS {total.rss / MB:.0f} MB (shared "
          f"pages once per process)")  # fmt: skip


@contextlib.contextmanager
def _cached(data_dir: Path) -> Iterator[Path]:
    """``data_dir`` with its embedding cache kept between runs (so start-up does not
    re-encode the FAQ; the stack's start-up has a fixed time limit)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    os.symlink(CACHE, data_dir / "cache")
    yield data_dir


def write_faq(size: int, folder: Path) -> Path:
    """A synthetic FAQ file of ``size`` entries (3 paraphrases each)."""
    base = load_faq_files(DATA / "faq.yml")
    entries, _ = synthetic_entries(base, size)
    trimmed = [
        replace(e, paraphrases={lang: ps[:3] for lang, ps in e.paraphrases.items()})
        for e in entries
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "faq.yml"
    path.write_text(dump_yaml(trimmed), encoding="utf-8")
    return folder


def measure_faq(size: int, variant: str) -> None:
    """Start the app alone on a ``size``-entry FAQ; print its memory once it answers."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        port = free_port()
        env = {
            **os.environ,
            **VARIANTS[variant],
            "FARO_PROJECT_DIR": str(ROOT),
            "FARO_DATA_DIR": str(data / "data"),
            "FARO_FAQ": str(write_faq(size, data / "faq")) if size else str(ROOT / "data/faq"),
            "FARO_PORT": str(port),
            "FARO_RASA_URL": "http://127.0.0.1:9",  # no Rasa: the app's own memory
        }
        # the embeddings of every size share one cache, kept between runs
        (data / "data").mkdir()
        CACHE.mkdir(parents=True, exist_ok=True)
        os.symlink(CACHE, data / "data" / "cache")
        started = time.monotonic()
        log = (data / "app.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/healthz"
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"faro serve exited: {(data / 'app.log').read_text()[-2000:]}")
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() - started > 3600:
                    raise SystemExit("faro serve did not start within an hour")
                time.sleep(0.5)
            ready_s = time.monotonic() - started
            time.sleep(2)
            m = memory(proc.pid)
        finally:
            stop(proc)
            log.close()
    label = f"{size} entries" if size else "sample FAQ"
    print(row(f"app, {label} [{variant}]", m) + f"   (up in {ready_s:.0f} s)")


def measure_trim(size: int) -> None:
    """Build the app's services in this process on a ``size``-entry FAQ with no embedding
    cache (a replica's first start), then print its memory before and after
    ``release_free_memory`` (what ``faro serve`` calls next): before/after in one run."""
    from bot.cli.serving import release_free_memory
    from bot.settings import Settings
    from bot.wiring import build_services

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        faq = write_faq(size, data / "faq") if size else ROOT / "data" / "faq"
        settings = Settings.from_env(
            {
                "FARO_PROJECT_DIR": str(ROOT),
                "FARO_DATA_DIR": str(data / "data"),
                "FARO_FAQ": str(faq),
                "FARO_RASA_URL": "http://127.0.0.1:9",
            }
        )
        services = build_services(settings)
        before = memory(os.getpid())
        release_free_memory()
        after = memory(os.getpid())
        services.store.dispose()
    label = f"{size} entries" if size else "sample FAQ"
    print(f"app services built in-process, {label}, no embedding cache:")
    print(row("before release", before))
    print(row("after release", after))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", action="store_true", help="measure the default stack")
    parser.add_argument("--turns", type=int, default=300, help="unseen turns before measuring")
    parser.add_argument("--replicas", type=int, default=None, help="default: as faro up")
    parser.add_argument("--faq-sizes", default="", help="e.g. 0,1000,10000 (0: sample FAQ)")
    parser.add_argument("--variants", default="default,arena2")
    parser.add_argument(
        "--trim-check", type=int, default=None, metavar="SIZE",
        help="memory right after embedding a SIZE-entry FAQ, before/after releasing free memory",
    )  # fmt: skip
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    for v in variants:
        if v not in VARIANTS:
            parser.error(f"--variants: unknown {v!r} (known: {', '.join(VARIANTS)})")
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{os.cpu_count()} cores")  # fmt: skip
    if args.stack:
        replicas = args.replicas or default_replicas(None)
        for v in variants:
            measure_stack(v, replicas, args.turns)
    if args.trim_check is not None:
        measure_trim(args.trim_check)
    sizes = [int(s) for s in args.faq_sizes.split(",") if s.strip()]
    if sizes:
        print("app alone (faro serve, no Rasa), by FAQ size:")
        for size in sizes:
            for v in variants:
                measure_faq(size, v)


if __name__ == "__main__":
    main()
