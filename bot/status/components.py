"""Which status-page components a question is about: names and staff aliases, any case or accent."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from bot.status.errors import StatusError
from bot.status.model import Component, StatusSnapshot

logger = logging.getLogger(__name__)

_NON_WORD = re.compile(r"[^\w]+")


class AliasError(StatusError):
    """The aliases file is invalid."""


def normalize(text: str) -> str:
    """Lower-case, accent-free words with a crude plural strip (tarjetas -> tarjeta)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = _NON_WORD.sub(" ", plain).split()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


def load_aliases(path: Path | str) -> dict[str, tuple[str, ...]]:
    """Read ``data/status/aliases.yml``: component name -> words customers use for it."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AliasError(f"{path}: not readable YAML ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("version", 1) != 1:
        raise AliasError(f"{path}: expected 'version: 1' and an 'aliases' mapping")
    aliases = doc.get("aliases") or {}
    if not isinstance(aliases, dict):
        raise AliasError(f"{path}: 'aliases' must map component names to lists of words")
    out: dict[str, tuple[str, ...]] = {}
    for name, words in aliases.items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise AliasError(f"{path}: component {name!r}: expected a list of words")
        out[str(name)] = tuple(words)
    return out


class ComponentMatcher:
    """Finds the components a question names, by the page's names and staff aliases."""

    def __init__(self, aliases: Mapping[str, Iterable[str]] | None = None) -> None:
        self._aliases: dict[str, list[str]] = {}
        for name, words in (aliases or {}).items():
            self._aliases.setdefault(normalize(name), []).extend(
                normalize(w) for w in words if normalize(w)
            )

    def match(self, text: str, snapshot: StatusSnapshot) -> list[Component]:
        """Components of ``snapshot`` that ``text`` mentions, in page order (groups left out)."""
        question = f" {normalize(text)} "
        found: list[Component] = []
        for component in snapshot.leaf_components():
            key = normalize(component.name)
            phrases = [key, *self._aliases.get(key, [])]
            if any(p and f" {p} " in question for p in phrases):
                found.append(component)
        return found
