"""bot.language.guess_language: English or Spanish from a short chat message."""

from __future__ import annotations

import pytest

from bot.language import guess_language


@pytest.mark.parametrize(
    "text",
    [
        "Is the service down?",
        "my card payment is not working",
        "When will it be fixed",
        "hello, can I talk to a person please",
        "THE ATM IS NOT WORKING",
        "stop sending me updates",
        "notify me when it's back",
    ],
)
def test_english(text: str) -> None:
    assert guess_language(text) == "en"
    assert guess_language(text, default="es") == "en"


@pytest.mark.parametrize(
    "text",
    [
        "¿Cuándo vuelve el servicio?",
        "mi tarjeta no funciona",
        "Hola, quiero hablar con una persona",
        "¿Está caído el banco?",
        "LA TRANSFERENCIA NO SE HA HECHO",
        "avísame cuando se arregle",
        "deja de mandarme avisos",
        "no más avisos",
    ],
)
def test_spanish(text: str) -> None:
    assert guess_language(text) == "es"
    assert guess_language(text, default="en") == "es"


@pytest.mark.parametrize(
    ("accented", "plain"),
    [
        ("¿Cuándo volverá el servicio?", "cuando volvera el servicio"),
        ("¿Está caído?", "esta caido"),
        ("Adiós, gracias", "adios gracias"),
    ],
)
def test_spanish_typed_without_accents(accented: str, plain: str) -> None:
    # People type on phones without accents; the folded word list must catch it.
    assert guess_language(accented) == "es"
    assert guess_language(plain) == "es"


@pytest.mark.parametrize("mark", ["ñ", "¿", "¡", "é"])
def test_spanish_only_characters_count(mark: str) -> None:
    # One Spanish-only character outweighs one English function word.
    assert guess_language(f"the {mark}") == "es"


@pytest.mark.parametrize("text", ["", "   ", "12345", "ok", "?!", "👍", "Northwind"])
def test_no_evidence_returns_default(text: str) -> None:
    assert guess_language(text) == "en"
    assert guess_language(text, default="es") == "es"


@pytest.mark.parametrize("text", ["hola hello", "gracias thanks", "no"])
def test_tie_returns_default(text: str) -> None:
    assert guess_language(text, default="en") == "en"
    assert guess_language(text, default="es") == "es"


def test_words_in_both_lists_count_for_neither() -> None:
    # "no" is an English and a Spanish word: it must not tip the balance.
    assert guess_language("no no no", default="es") == "es"
    assert guess_language("no no no", default="en") == "en"


def test_more_evidence_wins() -> None:
    assert guess_language("hola, my card is not working") == "en"
    assert guess_language("hi, mi tarjeta no funciona desde ayer", default="en") == "es"
