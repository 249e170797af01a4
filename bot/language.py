"""Guessing whether a short message is English or Spanish.

Channels pass the user's language when the platform knows it (Telegram's
``language_code``, the widget's page language); this is for when it does
not. Short chat messages defeat statistical detectors, so this counts
function words and Spanish-only characters, which carry short texts well.
"""

from __future__ import annotations

import re
import unicodedata

_ES_CHARS = set("ñ¿¡áéíóúü")
_ES_WORDS = frozenset(
    """
    el la los las un una unos unas de del al y o que qué en por para con sin mi mis
    tu tus su sus es son está estan están esta estoy hay no sí si como cómo cuando
    cuándo donde dónde porque por qué quien quién cual cuál me te se le lo nos yo
    puedo puede pueden quiero necesito tengo tiene hola buenas buenos dias días
    gracias adios adiós hasta luego vale servicio tarjeta pago pagos cuenta dinero
    funciona funcionan caido caído caida caída vuelve volverá cuanto cuánto tiempo
    hablar persona humano agente ayuda problema banco cajero transferencia
    """.split()
)
_EN_WORDS = frozenset(
    """
    the a an of and or to in on for with without my your his her its our their is
    are was were be been am i you he she it we they what when where why how who
    which can could would should will do does did not no yes hi hello hey thanks
    thank bye goodbye please is there this that these those down up working work
    fixed card payment payments account money service talk person human agent help
    problem bank transfer want need have has get me us stop send sending sent updates update
    notify notifications let know keep posted more message messages tell still again app
    website online broken anymore
    """.split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def guess_language(text: str, *, default: str = "en") -> str:
    """Return ``"es"`` or ``"en"`` for ``text``; ``default`` when there is no evidence."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    es = 2 * sum(1 for ch in lowered if ch in _ES_CHARS)
    en = 0
    for word in words:
        folded = _fold(word)
        in_es = word in _ES_WORDS or folded in _ES_WORDS
        in_en = word in _EN_WORDS
        if in_es and not in_en:
            es += 1
        elif in_en and not in_es:
            en += 1
    if es > en:
        return "es"
    if en > es:
        return "en"
    return default


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
