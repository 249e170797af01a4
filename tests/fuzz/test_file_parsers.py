"""Property-based tests: FAQ files (YAML, CSV), template files, the edit codec; any input is
parsed or refused with the parser's one error (a clear line naming the file), never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from bot.faqdb.codec import entry_to_dict, from_json, to_json, validate_edit
from bot.faqdb.errors import FaqStoreError
from bot.faqdb.files import dump_csv, dump_yaml, parse_csv
from bot.templates import TemplateError, TemplateStore
from faq_index import parse_faq_text
from faq_index.errors import FaqFileError
from tests.fuzz.strategies import SCALARS, documents, json_values

langs = st.sampled_from(["en", "es", "fr", "EN", "", "e", "english", 1, None])
text_maps = st.one_of(
    json_values(6), st.dictionaries(langs, st.one_of(st.text(max_size=40), SCALARS), max_size=3)
)
entries = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(
            st.text(max_size=20), st.sampled_from(["card-payments", "a", "A B", "x" * 120]), SCALARS
        ),
        "question": text_maps,
        "answer": text_maps,
        "paraphrases": st.one_of(
            json_values(6),
            st.dictionaries(langs, st.lists(st.text(max_size=20), max_size=3), max_size=2),
        ),
        "tags": st.one_of(json_values(4), st.lists(st.text(max_size=12), max_size=3)),
    },
)
faq_docs = st.fixed_dictionaries(
    {},
    optional={
        "version": st.one_of(st.just(1), SCALARS),
        "faqs": st.one_of(st.lists(entries, max_size=4), json_values(6)),
    },
)


def yaml_text(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


def one_clear_line(exc: Exception) -> None:
    assert str(exc) and "\n" not in str(exc).strip(), str(exc)


@given(st.one_of(st.text(max_size=400), faq_docs.map(yaml_text), json_values().map(yaml_text)))
def test_faq_yaml(text: str) -> None:
    try:
        parsed = parse_faq_text(text, "fuzz.yml")
    except FaqFileError as exc:
        one_clear_line(exc)
        assert "fuzz.yml" in str(exc)
        return
    # what loads, dumps and loads the same (the admin's export/import round trip)
    assert [e.id for e in parse_faq_text(dump_yaml(parsed), "again.yml")] == [e.id for e in parsed]
    if parsed:  # an empty FAQ exports a header only, which an import refuses on purpose
        assert [e.id for e in parse_csv(dump_csv(parsed), "again.csv")] == [e.id for e in parsed]


csv_cells = st.one_of(
    st.text(max_size=30), st.sampled_from(['"', '""', "\n", "\r", ",", "a,b", "x\x00y"])
)
csv_rows = st.lists(st.lists(csv_cells, max_size=8), max_size=5)
headers = st.lists(
    st.sampled_from(
        [
            "id",
            "question_en",
            "answer_en",
            "question_es",
            "answer_es",
            "paraphrases_en",
            "tags",
            "other",
            "",
        ]
    ),
    max_size=7,
)


@given(
    st.one_of(
        st.text(max_size=400),
        st.tuples(headers, csv_rows).map(lambda t: "\n".join(",".join(r) for r in [t[0], *t[1]])),
    )
)
def test_faq_csv(text: str) -> None:
    try:
        parse_csv(text, "fuzz.csv")
    except FaqFileError as exc:
        one_clear_line(exc)


@given(
    st.one_of(
        json_values(),
        entries,
        st.dictionaries(
            st.sampled_from(["id", "question", "answer", "tags", "paraphrases", "version"]),
            json_values(5),
        ),
    )
)
@example(raw={"answer": True})  # crashed with AttributeError before (issue 19)
def test_entry_edits(raw: Any) -> None:
    if not isinstance(raw, dict):
        return
    try:
        entry = validate_edit(raw)
    except (FaqStoreError, FaqFileError) as exc:
        one_clear_line(exc)
        return
    assert validate_edit(entry_to_dict(entry)) == entry
    assert from_json(to_json(entry), "x").id == entry.id


template_docs = st.fixed_dictionaries(
    {},
    optional={
        "version": st.one_of(st.just(1), SCALARS),
        "templates": st.one_of(
            json_values(6),
            st.dictionaries(
                st.one_of(
                    st.text(max_size=10),
                    SCALARS.filter(lambda v: v is not None and not isinstance(v, float)),
                ),
                st.one_of(
                    json_values(4),
                    st.dictionaries(
                        langs.filter(lambda v: v is not None),
                        st.one_of(
                            st.text(max_size=40),
                            st.sampled_from(
                                ["{x}", "{0}", "{", "}", "{a.b}", "{a[0]}", "{x!r}", "{x:>{y}}"]
                            ),
                        ),
                        max_size=2,
                    ),
                ),
                max_size=3,
            ),
        ),
    },
)


@given(
    st.one_of(
        st.text(max_size=300), template_docs.map(yaml_text), documents(["templates"]).map(yaml_text)
    )
)
def test_template_files(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yml"
        path.write_text(text, encoding="utf-8")
        try:
            store = TemplateStore.from_paths([path])
        except TemplateError as exc:
            one_clear_line(exc)
            assert "fuzz.yml" in str(exc)
            return
        names = store.keys()
        for key in names:  # every template that loads also renders
            for lang in ("en", "es"):
                store.render(key, lang, x="1", y="2", limit=3)
