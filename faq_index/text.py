"""Text analysis for the lexical side: accent folding, tokens, stopwords, stemming."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

import Stemmer

# Snowball stemmers PyStemmer ships, by ISO 639-1 code.
_STEMMERS = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french",
    "hu": "hungarian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "nl": "dutch", "no": "norwegian", "pl": "polish", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sv": "swedish", "tr": "turkish",
}  # fmt: skip

# Function words only: content words that look like stopwords in generic lists
# ("estado" = status, "service", "down") are kept on purpose.
_STOPWORDS = {
    "en": """a about above after again all am an and any are as at be because been
        before being below between both but by can could did do does doing down during
        each few for from further had has have having he her here hers herself him himself
        his i i'm if in into is it it's its itself just me more most my myself no nor of
        off on once only or other our ours ourselves out over own same she should so some
        such than that the their theirs them themselves then there these they this those
        through to too under until up very was we were what when where which while who
        whom why will with would you your yours yourself yourselves im ive id dont
        please hi hello hey thanks thank""",
    "es": """a al algo algun alguna algunas alguno algunos ante antes aqui asi aun cada
        como con contra cual cuales cuando de del desde donde durante e el ella ellas ellos
        en entre era eran es esa esas ese eso esos esta estas este esto estos fue fueron
        ha han has hay he la las le les lo los me mi mis mucho muy nada ni no nos nosotros
        o os otra otro para pero poco por porque que quien quienes se ser si sin sobre
        son su sus tambien te tengo ti tu tus un una unas uno unos usted ustedes vosotros
        y ya yo hola gracias favor""",
}

# Character n-grams: 3..5 characters of each folded, space-padded word.
MIN_N = 3
MAX_N = 5

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def fold(text: str) -> str:
    """Lowercase and strip accents ("Cómo está" -> "como esta"), so queries typed
    without accents match FAQ texts written with them."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def base_lang(lang: str) -> str:
    """The two-letter base of a language code ("pt-br" -> "pt")."""
    return lang.lower().replace("_", "-").split("-", 1)[0]


@lru_cache(maxsize=64)
def analyzer(lang: str) -> Callable[[str], list[str]]:
    """Return the tokenizer for ``lang``: fold, split, drop stopwords, stem."""
    code = base_lang(lang)
    stops = frozenset(fold(w) for w in _STOPWORDS.get(code, "").split())
    algorithm = _STEMMERS.get(code)
    stemmer = Stemmer.Stemmer(algorithm) if algorithm else None

    def analyze(text: str) -> list[str]:
        tokens = [t.replace("'", "") for t in _TOKEN.findall(fold(text))]
        kept = [t for t in tokens if t not in stops] or tokens
        if stemmer is None:
            return kept
        return list(stemmer.stemWords(kept))

    return analyze


def char_grams(text: str) -> Counter[str]:
    """Counts of the 3..5-character n-grams of each folded word, padded with spaces."""
    grams: Counter[str] = Counter()
    for word in "".join(ch if ch.isalnum() else " " for ch in fold(text)).split():
        padded = f" {word} "
        for n in range(MIN_N, MAX_N + 1):
            grams.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams
