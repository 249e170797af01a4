"""What staff taught the answer center: questions they mapped to an entry
(``positives``) and questions they dismissed as "not ours" (``negatives``).

Both are real customer questions, which the FAQ's own phrasings are not: a mapped
question is one more way customers ask for that entry (the classifier head learns
it, and the calibration learns how confident a question like it should be); a
dismissed one is a real out-of-scope question near the FAQ's topic (the
calibration learns that whatever it resembled most was wrong for it, so similar
questions are answered outright less often). They change no entry: staff who want
a mapped question answered at once add it as a paraphrase.

The store of these lists (the ``faq_feedback`` table) is not part of this package:
callers pass them to ``FaqIndex.build`` or ``FaqIndex.with_feedback``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# At most this many of each are used (the most recent, as given last): a
# calibration stays a few seconds of CPU however long an incident lasts.
MAX_FEEDBACK = 2000


@dataclass(frozen=True)
class Feedback:
    """Staff's verdicts on real questions: ``positives`` are (text, lang, faq_id),
    ``negatives`` are (text, lang). Blank texts and ids are ignored."""

    positives: tuple[tuple[str, str, str], ...] = ()
    negatives: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        positives: Iterable[tuple[str, str, str]] = (),
        negatives: Iterable[tuple[str, str]] = (),
    ) -> Feedback:
        """Clean lists: whitespace collapsed, blanks dropped, repeats kept once (the
        last verdict on a text wins: a question first dismissed, then mapped, is a
        positive)."""
        verdict: dict[str, tuple[str, str | None]] = {}
        for text, lang, faq_id in positives:
            key = " ".join(str(text).split())
            if key and str(faq_id).strip():
                verdict.pop(key, None)
                verdict[key] = (str(lang or ""), str(faq_id).strip())
        for text, lang in negatives:
            key = " ".join(str(text).split())
            if key:
                verdict.pop(key, None)
                verdict[key] = (str(lang or ""), None)
        pos = [(t, lang, i) for t, (lang, i) in verdict.items() if i is not None]
        neg = [(t, lang) for t, (lang, i) in verdict.items() if i is None]
        return cls(tuple(pos[-MAX_FEEDBACK:]), tuple(neg[-MAX_FEEDBACK:]))

    def __bool__(self) -> bool:
        return bool(self.positives or self.negatives)


@dataclass(frozen=True)
class FeedbackRows:
    """Feedback resolved against one FAQ: each question's text, language, vector and
    entry position (-1: a negative)."""

    texts: tuple[str, ...]
    langs: tuple[str, ...]
    targets: npt.NDArray[np.int64]
    vectors: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.texts)


def resolve(
    feedback: Feedback,
    ids: Sequence[str],
    embed: Callable[[list[str]], npt.NDArray[np.float32]],
    default_lang: str,
) -> FeedbackRows | None:
    """``feedback`` against the entries ``ids`` (positives of entries no longer in
    the FAQ are dropped), embedded; None when nothing is left."""
    where = {faq_id: i for i, faq_id in enumerate(ids)}
    items = [(t, lang, where[i]) for t, lang, i in feedback.positives if i in where]
    items += [(t, lang, -1) for t, lang in feedback.negatives]
    if not items:
        return None
    texts = [t for t, _, _ in items]
    return FeedbackRows(
        tuple(texts),
        tuple(lang or default_lang for _, lang, _ in items),
        np.asarray([target for _, _, target in items], dtype=np.int64),
        np.asarray(embed(texts), dtype=np.float32),
    )
