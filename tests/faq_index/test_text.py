"""Text analysis: folding, stopwords, stemming."""

from __future__ import annotations

from faq_index.text import analyzer, base_lang, fold


def test_fold_strips_accents_and_case() -> None:
    assert fold("¿Cuándo Vuelve la Página?") == "¿cuando vuelve la pagina?"


def test_spanish_with_and_without_accents_match() -> None:
    es = analyzer("es")
    assert es("¿Cuándo vuelve el servicio?") == es("cuando vuelve servicio")
    assert es("pagos con tarjeta") == es("pago tarjetas")


def test_english_stems_and_drops_stopwords() -> None:
    assert analyzer("en")("Why are my card payments failing?") == ["card", "payment", "fail"]


def test_unknown_language_only_folds_and_splits() -> None:
    assert analyzer("xx")("Hé ho") == ["he", "ho"]
    assert base_lang("pt-BR") == "pt"


def test_all_stopword_question_keeps_its_words() -> None:
    assert analyzer("en")("who are you") == ["who", "are", "you"]
