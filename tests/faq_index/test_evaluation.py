"""Evaluation metrics on a tiny hand-made set with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faq_index import Decision, FaqEntry, LabelledQuery, Match, QueryFileError, evaluate
from faq_index.evaluation import load_queries
from tests.helpers.faq_builders import make_entry

A, B, C = make_entry("a", "qa"), make_entry("b", "qb"), make_entry("c", "qc")


class ScriptedIndex:
    """Returns a fixed ranking and decision per question."""

    def __init__(self, script: dict[str, tuple[list[FaqEntry], str]]) -> None:
        self.script = script

    def search(self, text: str, lang: str, k: int = 5) -> list[Match]:
        return [Match(e, 0.5) for e in self.script[text][0][:k]]

    def decide(self, text: str, lang: str) -> Decision:
        ranking, kind = self.script[text]
        return Decision(kind, (Match(ranking[0], 0.9),) if kind == "answer" else ())  # type: ignore[arg-type]


def test_metrics_on_known_answers() -> None:
    index = ScriptedIndex(
        {
            "q1": ([A, B, C], "answer"),  # right at rank 1, answered right
            "q2": ([B, A, C], "answer"),  # right at rank 2, answered wrong
            "q3": ([B, C, A], "decline"),  # right at rank 3
            "q4": ([C, B], "choose"),  # expected a or b (list): b at rank 2
            "oos1": ([A], "answer"),  # out of scope, answered: wrong
            "oos2": ([B], "decline"),
        }
    )
    queries = [
        LabelledQuery("q1", "en", frozenset({"a"})),
        LabelledQuery("q2", "en", frozenset({"a"})),
        LabelledQuery("q3", "en", frozenset({"a"})),
        {"text": "q4", "lang": "en", "expected": ["a", "b"]},
        {"text": "oos1", "lang": "en", "expected": None},
        {"text": "oos2", "lang": "es", "expected": None},
    ]
    got = evaluate(index, queries)  # type: ignore[arg-type]
    assert got["n"] == 6
    assert got["top1"] == pytest.approx(1 / 4)
    assert got["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 2) / 4)
    assert got["recall_at_3"] == pytest.approx(1.0)
    assert got["coverage"] == pytest.approx(2 / 4)
    assert got["precision"] == pytest.approx(1 / 3)
    assert got["oos_answered"] == pytest.approx(1 / 2)
    assert 0 <= got["p50_ms"] <= got["p99_ms"]


def test_load_queries_formats_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "q.jsonl"
    lines = [
        {"text": "a", "lang": "en", "expected": "x"},
        {"text": "b", "lang": "es", "expected": ["x", "y"]},
        {"text": "c", "lang": "en", "expected": None},
    ]
    good.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    queries = load_queries(good)
    assert [q.expected for q in queries] == [{"x"}, {"x", "y"}, frozenset()]
    assert not queries[2].in_scope
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "expected": "x"}\n{"text": ""}\n', encoding="utf-8")
    with pytest.raises(QueryFileError, match=r"bad.jsonl:2: 'text' must be non-empty"):
        load_queries(bad)
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(QueryFileError, match="invalid JSON"):
        load_queries(bad)
    bad.write_text('{"text": "a", "expected": 3}\n', encoding="utf-8")
    with pytest.raises(QueryFileError, match="'expected'"):
        load_queries(bad)
