"""Which components a question is about: page names and staff aliases, any case or accent."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.status.components import AliasError, ComponentMatcher, load_aliases, normalize
from bot.status.statuspage import loads
from tests.helpers.status_builders import ALIASES, SAMPLE_FEED

SAMPLE = loads(SAMPLE_FEED.read_bytes())


@pytest.fixture(scope="module")
def matcher() -> ComponentMatcher:
    return ComponentMatcher(load_aliases(ALIASES))


def names(matcher: ComponentMatcher, text: str) -> list[str]:
    return [c.name for c in matcher.match(text, SAMPLE)]


def test_normalize() -> None:
    assert normalize("¿Pagos con TARJETA?") == "pago con tarjeta"
    assert normalize("Card payments") == normalize("card payment")
    assert normalize("Transferencias") == "transferencia"
    assert normalize("ATMs") == normalize("atm")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is card payments down?", ["Card payments"]),
        ("CARD PAYMENT not working", ["Card payments"]),
        ("my card was declined", ["Card payments"]),
        ("¿Funciona la tarjeta?", ["Card payments"]),
        ("me rechazan la tarjeta de débito", ["Card payments"]),
        ("are transfers working?", ["Payments API", "Transfers"]),
        ("¿puedo hacer una transferencia?", ["Payments API", "Transfers"]),
        ("is the payments api up", ["Payments API"]),
        ("Is the app down?", ["Mobile app"]),
        ("¿La aplicación no funciona?", ["Mobile app"]),
        ("can I log in to online banking", ["Online banking"]),
        ("Banca Online caída", ["Online banking"]),
        ("are ATMs working", ["ATMs"]),
        ("¿funcionan los cajeros?", ["ATMs"]),
        ("is it down?", []),
        ("¿está caído?", []),
        ("I'm happy", []),  # "app" inside a word is not the app
        ("webhooks", []),
    ],
)
def test_matching(matcher: ComponentMatcher, text: str, expected: list[str]) -> None:
    assert names(matcher, text) == expected


def test_page_names_match_without_aliases() -> None:
    bare = ComponentMatcher()
    assert [c.name for c in bare.match("Are the ATMS ok?", SAMPLE)] == ["ATMs"]
    assert bare.match("tarjeta", SAMPLE) == []


def test_every_alias_names_a_component_of_the_sample_page() -> None:
    page = {c.name for c in SAMPLE.components}
    assert set(load_aliases(ALIASES)) <= page


@pytest.mark.parametrize(
    "content",
    [
        "aliases: [1, 2]",
        "version: 2\naliases: {}",
        "aliases:\n  ATMs: cash",
        "aliases:\n  ATMs: ['']",
        "{{{",
    ],
)
def test_bad_alias_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "aliases.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AliasError, match="aliases.yml"):
        load_aliases(path)
