"""Score an index on labelled queries: ranking quality, decisions, latency."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faq_index.errors import QueryFileError
from faq_index.index import FaqIndex

RANK_DEPTH = 10


@dataclass(frozen=True)
class LabelledQuery:
    """A question, its language and the acceptable FAQ ids (empty: out of scope)."""

    text: str
    lang: str
    expected: frozenset[str]

    @property
    def in_scope(self) -> bool:
        """Whether some FAQ entry answers it."""
        return bool(self.expected)


def load_queries(path: str | Path) -> list[LabelledQuery]:
    """Read a JSON-lines query file (text, lang, expected: id | [ids] | null)."""
    file = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryFileError(file, None, f"cannot read file ({exc})") from exc
    queries = [_parse(line, file, n) for n, line in enumerate(lines, start=1) if line.strip()]
    if not queries:
        raise QueryFileError(file, None, "no queries in file")
    return queries


def _parse(line: str, file: str, n: int) -> LabelledQuery:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QueryFileError(file, n, f"invalid JSON ({exc.msg})") from exc
    if not isinstance(raw, dict):
        raise QueryFileError(file, n, "expected a JSON object")
    text, lang, expected = raw.get("text"), raw.get("lang", "en"), raw.get("expected")
    if not isinstance(text, str) or not text.strip():
        raise QueryFileError(file, n, "'text' must be non-empty text")
    if not isinstance(lang, str) or not lang:
        raise QueryFileError(file, n, "'lang' must be a language code")
    if expected is None:
        ids: list[Any] = []
    elif isinstance(expected, str):
        ids = [expected]
    elif isinstance(expected, list) and expected:
        ids = expected
    else:
        raise QueryFileError(file, n, "'expected' must be an id, a list of ids or null")
    if not all(isinstance(i, str) and i for i in ids):
        raise QueryFileError(file, n, "'expected' ids must be non-empty text")
    return LabelledQuery(text, lang, frozenset(ids))


def evaluate(
    index: FaqIndex,
    queries: Iterable[LabelledQuery | dict[str, Any]],
    *,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Compute n, top1, mrr, recall_at_3, coverage, precision, oos_answered,
    overall_accuracy (in-scope answered outright and right plus out-of-scope not
    answered outright, over all questions: HINT3's measure), p50_ms, p99_ms."""
    items = [q if isinstance(q, LabelledQuery) else _from_dict(q) for q in queries]
    reciprocal: list[float] = []
    top1: list[bool] = []
    at3: list[bool] = []
    answered_right = answered = answered_in_scope = oos_answered = 0
    latencies: list[float] = []
    for q in items:
        start = time.perf_counter()
        decision = index.decide(q.text, q.lang)
        latencies.append((time.perf_counter() - start) * 1000.0)
        if decision.kind == "answer":
            answered += 1
            right = decision.matches[0].entry.id in q.expected
            answered_right += right
            answered_in_scope += q.in_scope
            oos_answered += not q.in_scope
        if q.in_scope:
            ranked = [m.entry.id for m in index.search(q.text, q.lang, k=RANK_DEPTH)]
            rank = next((i for i, fid in enumerate(ranked) if fid in q.expected), None)
            reciprocal.append(0.0 if rank is None else 1.0 / (rank + 1))
            top1.append(rank == 0)
            at3.append(rank is not None and rank < 3)
        if progress is not None:
            progress(1)
    n_in = len(reciprocal)
    n_oos = len(items) - n_in
    return {
        "n": len(items),
        "n_answerable": n_in,
        "n_out_of_scope": n_oos,
        "top1": _mean(top1),
        "mrr": _mean(reciprocal),
        "recall_at_3": _mean(at3),
        "coverage": answered_in_scope / n_in if n_in else 0.0,
        "precision": answered_right / answered if answered else 1.0,
        "oos_answered": oos_answered / n_oos if n_oos else 0.0,
        "overall_accuracy": (answered_right + n_oos - oos_answered) / len(items) if items else 0.0,
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
    }


def _from_dict(raw: dict[str, Any]) -> LabelledQuery:
    return _parse(json.dumps(raw), "<queries>", 0)


def _mean(values: Sequence[float | bool]) -> float:
    return float(np.mean(values)) if values else 0.0


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0
