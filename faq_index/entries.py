"""The FAQ entry: one question with its paraphrases and answers, per language."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

TextKind = Literal["question", "paraphrase", "answer"]

FALLBACK_LANG = "en"


@dataclass(frozen=True, eq=True)
class FaqEntry:
    """One FAQ entry; ``question``/``answer`` map a language code to text."""

    id: str
    question: Mapping[str, str]
    answer: Mapping[str, str]
    paraphrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    source: str | None = field(default=None, compare=False)

    def __hash__(self) -> int:
        return hash((self.id, self.content_key()))

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages the entry can answer in, in file order."""
        return tuple(self.answer)

    def answer_for(self, lang: str) -> tuple[str, str]:
        """Return (language used, answer text): ``lang``, else English, else any."""
        for candidate in (lang, FALLBACK_LANG):
            text = self.answer.get(candidate)
            if text:
                return candidate, text
        first = next(iter(self.answer))
        return first, self.answer[first]

    def question_for(self, lang: str) -> tuple[str, str]:
        """Return (language used, question text) with the same fallback as answers."""
        for candidate in (lang, FALLBACK_LANG):
            text = self.question.get(candidate)
            if text:
                return candidate, text
        first = next(iter(self.question))
        return first, self.question[first]

    def texts(self) -> list[tuple[str, TextKind, str]]:
        """Every searchable text as (lang, kind, text): questions, paraphrases, answers."""
        out: list[tuple[str, TextKind, str]] = []
        for lang, text in self.question.items():
            out.append((lang, "question", text))
        for lang, items in self.paraphrases.items():
            out.extend((lang, "paraphrase", text) for text in items)
        for lang, text in self.answer.items():
            out.append((lang, "answer", text))
        return out

    def content_key(self) -> str:
        """A stable hash of everything that affects search (not the source file)."""
        payload = json.dumps(
            {
                "id": self.id,
                "q": dict(self.question),
                "a": dict(self.answer),
                "p": {k: list(v) for k, v in self.paraphrases.items()},
                "t": list(self.tags),
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
