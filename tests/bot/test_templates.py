"""bot.templates.TemplateStore: loading staff-editable templates and rendering them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.templates import TemplateError, TemplateStore

# Every template the dialogue core and the actions render by name.
REQUIRED = (
    "greet", "goodbye", "thanks", "bot_challenge", "request_human", "faq_choose",
    "faq_decline", "button_human", "empty_message", "message_too_long", "dialogue_unavailable",
    "handoff_queued", "handoff_wait_minutes", "handoff_wait_unknown", "handoff_queued_offline",
    "handoff_with_agent", "handoff_claimed", "handoff_released", "handoff_closed",
    "handoff_cancelled", "handoff_not_queued", "button_cancel_handoff",
)  # fmt: skip


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
version: 1
templates:
  greet:
    en: "Hi {name}!"
    es: "¡Hola {name}!"
  only_en:
    en: "English only"
  only_es:
    es: "Sólo en español"
"""


@pytest.fixture
def store(tmp_path: Path) -> TemplateStore:
    return TemplateStore.from_paths([write(tmp_path, "a.yml", GOOD)])


# --- the shipped templates ------------------------------------------------------------


def test_shipped_templates_load_with_every_required_key_in_en_and_es(
    templates: TemplateStore,
) -> None:
    for key in REQUIRED:
        assert templates.has(key), key
        en, es = templates.render(key, "en", limit=5), templates.render(key, "es", limit=5)
        assert en.strip() and es.strip()
        assert en != es, f"{key}: Spanish text is a copy of the English one"


def test_shipped_message_too_long_fills_limit(templates: TemplateStore) -> None:
    assert "1000" in templates.render("message_too_long", "en", limit=1000)
    assert "1000" in templates.render("message_too_long", "es", limit=1000)


# --- loading --------------------------------------------------------------------------


def test_load_a_file(store: TemplateStore) -> None:
    assert store.keys() == ["greet", "only_en", "only_es"]
    assert store.has("greet")
    assert not store.has("farewell")


def test_load_a_folder_merges_yml_and_yaml_and_ignores_other_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "templates:\n  one:\n    en: One\n")
    write(tmp_path, "b.yaml", "templates:\n  two:\n    en: Two\n")
    write(tmp_path, "notes.txt", "not: [yaml")
    store = TemplateStore.from_paths([tmp_path])
    assert store.keys() == ["one", "two"]
    assert store.render("two", "en") == "Two"


def test_version_defaults_to_1_and_other_versions_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "v2.yml", "version: 2\ntemplates:\n  one:\n    en: One\n")
    with pytest.raises(TemplateError, match=r"v2\.yml.*unsupported version 2"):
        TemplateStore.from_paths([path])


# --- rendering ------------------------------------------------------------------------


def test_render_in_the_asked_language(store: TemplateStore) -> None:
    assert store.render("greet", "en", name="Ana") == "Hi Ana!"
    assert store.render("greet", "es", name="Ana") == "¡Hola Ana!"


def test_render_falls_back_to_english_then_any_language(store: TemplateStore) -> None:
    assert store.render("greet", "fr", name="Ana") == "Hi Ana!"
    assert store.render("only_en", "es") == "English only"
    assert store.render("only_es", "en") == "Sólo en español"


def test_values_are_not_reinterpreted_as_placeholders(store: TemplateStore) -> None:
    assert store.render("greet", "en", name="{name} {0}") == "Hi {name} {0}!"


def test_missing_placeholder_value_does_not_fail_the_reply(
    store: TemplateStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.templates"):
        text = store.render("greet", "en")
    assert text.startswith("Hi") and text.endswith("!")
    assert "{name}" in caplog.text


def test_escaped_braces_render_literally(tmp_path: Path) -> None:
    store = TemplateStore.from_paths(
        [write(tmp_path, "t.yml", 'templates:\n  t:\n    en: "{{x}} {n}"\n')]
    )
    assert store.render("t", "en", n=3) == "{x} 3"


def test_unknown_template_raises(store: TemplateStore) -> None:
    with pytest.raises(TemplateError, match="farewell"):
        store.render("farewell", "en")


# --- invalid files: each error names the file (and the template) -----------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("templates: [unclosed\n", r"not readable YAML"),
        ("templates:\n  a:\n    en: 'x'\n   bad indent: y\n", r"not readable YAML"),
        ("version: 1\n", r"'templates' mapping"),
        ("- just\n- a list\n", r"'templates' mapping"),
        ("", r"'templates' mapping"),
        ("templates: [a, b]\n", r"'templates' mapping"),
        ("templates:\n  greet: Hello\n", r"'greet'.*expected languages"),
        ("templates:\n  greet: {}\n", r"'greet'.*expected languages"),
        ("templates:\n  greet:\n    en: ''\n", r"'greet'.*en.*empty"),
        ("templates:\n  greet:\n    en: '   '\n", r"'greet'.*en.*empty"),
        ("templates:\n  greet:\n    en:\n", r"'greet'.*en.*empty"),
        ("templates:\n  greet:\n    en: [a, b]\n", r"'greet'.*en.*not text"),
        ("templates:\n  greet:\n    en: 'Hi {name'\n", r"'greet'.*en"),
        ("templates:\n  greet:\n    en: 'Hi }'\n", r"'greet'.*en"),
    ],
    ids=[
        "broken-yaml", "bad-indent", "no-templates", "list-document", "empty-file",
        "templates-not-mapping", "template-not-mapping", "no-languages", "empty-text",
        "blank-text", "null-text", "list-text", "unclosed-placeholder", "stray-brace",
    ],
)  # fmt: skip
def test_invalid_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "broken.yml", text)
    with pytest.raises(TemplateError, match=message) as info:
        TemplateStore.from_paths([path])
    assert str(path) in str(info.value)


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes("templates:\n  greet:\n    es: 'Adiós'\n".encode("latin-1"))
    with pytest.raises(TemplateError, match=r"latin1\.yml: not readable YAML"):
        TemplateStore.from_paths([path])


def test_duplicate_key_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", "templates:\n  greet:\n    en: Hi\n")
    write(tmp_path, "b.yml", "templates:\n  greet:\n    en: Hello\n")
    with pytest.raises(TemplateError, match=r"b\.yml: template 'greet': defined twice"):
        TemplateStore.from_paths([tmp_path])


def test_same_file_given_twice_is_a_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yml", GOOD)
    with pytest.raises(TemplateError, match="defined twice"):
        TemplateStore.from_paths([path, path])


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(TemplateError, match=r"nope: no such file or folder"):
        TemplateStore.from_paths([missing])


@pytest.mark.parametrize("placeholder", ["{}", "{0}", "{user.name}", "{items[0]}"])
def test_placeholder_that_can_never_be_filled_is_refused_at_load(
    tmp_path: Path, placeholder: str
) -> None:
    # render() only fills named values: "{}" raises IndexError and "{a.b}"
    # AttributeError in the middle of a customer's turn. Staff must hear it
    # when the file is loaded, not customers when the template is used.
    path = write(tmp_path, "t.yml", f'templates:\n  t:\n    en: "Call us {placeholder}"\n')
    with pytest.raises(TemplateError, match=r"t\.yml: template 't': en"):
        TemplateStore.from_paths([path])
