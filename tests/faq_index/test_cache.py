"""Embedding cache: content-addressed, persistent, only encodes what is new."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faq_index import FaqIndex
from faq_index.cache import EmbeddingCache, text_key
from tests.helpers.faq_builders import CountingEncoder


def test_second_build_from_disk_encodes_nothing(tmp_path: Path, outage_entries) -> None:
    first = CountingEncoder()
    FaqIndex.build(outage_entries, first, cache_dir=tmp_path)
    assert first.texts > 0
    again = CountingEncoder()
    index = FaqIndex.build(outage_entries, again, cache_dir=tmp_path)
    assert again.calls == 0
    assert index.decide("card declined", "en").kind != "decline"


def test_only_new_texts_are_encoded(tmp_path: Path) -> None:
    enc = CountingEncoder()
    cache = EmbeddingCache(enc, tmp_path)
    a = cache.embed(["one", "two", "two"])
    assert enc.texts == 2
    b = cache.embed(["two", "three"])
    assert enc.texts == 3
    np.testing.assert_array_equal(a[1], b[0])


def test_keys_depend_on_model_and_text() -> None:
    assert text_key("m1", "x") != text_key("m2", "x") != text_key("m1", "y")


def test_packs_compact_and_damaged_packs_are_ignored(tmp_path: Path) -> None:
    enc = CountingEncoder()
    cache = EmbeddingCache(enc, tmp_path)
    for i in range(20):
        cache.embed([f"text {i}"])
    packs = list(tmp_path.rglob("pack-*.npz"))
    assert 1 <= len(packs) <= 16
    packs[0].write_bytes(b"garbage")
    reloaded = CountingEncoder()
    cache = EmbeddingCache(reloaded, tmp_path)
    cache.embed([f"text {i}" for i in range(20)])
    assert reloaded.texts < 20
