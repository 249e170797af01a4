"""Hypothesis strategies for hostile input: any JSON, plausible-but-wrong documents, XML."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "2026-12-05T10:00:00Z",
            "2026-13-45T99:99:99",
            "not a date",
            "0",
            "investigating",
            "resolved",
            "major_outage",
            "operational",
            "none",
            "critical",
            "scheduled",
            "in_progress",
            "-1",
            "1e999",
        ]
    ),
)


def json_values(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    """Any JSON value (bounded size)."""
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)
        ),
        max_leaves=max_leaves,
    )


def documents(
    keys: list[str], *, nested: dict[str, list[str]] | None = None
) -> st.SearchStrategy[Any]:
    """Objects with (some of) ``keys`` holding anything; ``nested`` keys hold lists of objects."""
    nested = nested or {}

    def item(sub: list[str]) -> st.SearchStrategy[dict[str, Any]]:
        return st.dictionaries(st.sampled_from(sub), json_values(8), max_size=len(sub))

    values: dict[str, st.SearchStrategy[Any]] = {
        k: st.one_of(json_values(8), st.lists(item(nested[k]), max_size=3))
        if k in nested
        else json_values(8)
        for k in keys
    }
    return st.fixed_dictionaries({}, optional=values)


def json_bytes(value: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """``value`` serialised as JSON bytes."""
    return value.map(lambda v: json.dumps(v).encode())


def any_bytes() -> st.SearchStrategy[bytes]:
    """Random bytes, some of them nearly JSON or XML."""
    return st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.sampled_from([b"{", b"[", b"<", b"<?xml", b"<feed", b"<rss><channel>"]).flatmap(
            lambda head: st.binary(max_size=100).map(lambda tail: head + tail)
        ),
    )
