"""The live answer center: the current FAQ index behind an atomic reference."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from bot.store import AppStore, StoreError
from faq_index import Decision, Encoder, FaqIndex, load_faq_files

logger = logging.getLogger(__name__)


class FaqService:
    """Implements actions' ``FaqAnswerer`` port over a swappable :class:`FaqIndex`."""

    def __init__(self, *, index: FaqIndex, store: AppStore) -> None:
        self._index = index
        self._store = store

    @classmethod
    def from_files(
        cls,
        paths: Sequence[Path],
        *,
        encoder: Encoder,
        store: AppStore,
        cache_dir: Path | None = None,
    ) -> FaqService:
        """Load and validate FAQ files, build the index (raises ``FaqFileError``)."""
        entries = load_faq_files(paths)
        index = FaqIndex.build(entries, encoder, cache_dir=cache_dir)
        logger.info("FAQ index ready: %d entries", len(entries))
        return cls(index=index, store=store)

    @property
    def index(self) -> FaqIndex:
        """The index in service now."""
        return self._index

    def swap(self, index: FaqIndex) -> None:
        """Put a new index in service; in-flight queries finish on the old one."""
        self._index = index

    def decide(self, text: str, lang: str) -> Decision:
        """Answer, offer choices or decline (see ``faq_index``)."""
        return self._index.decide(text, lang)

    def entry_answer(self, faq_id: str, lang: str) -> tuple[str, str] | None:
        """Return (question, answer) of one entry in ``lang`` or its fallback."""
        entry = self._index.entry(faq_id)
        if entry is None:
            return None
        _, answer = entry.answer_for(lang)
        return entry.question_for(lang)[1], answer

    def record_unanswered(self, text: str, lang: str, *, conversation_id: str) -> None:
        """Record a miss for staff; a database failure must not fail the customer's turn."""
        try:
            self._store.record_unanswered(text, lang, conversation_id=conversation_id)
        except (StoreError, Exception) as exc:  # noqa: BLE001 - logged, turn goes on
            logger.error("could not record an unanswered question: %s", type(exc).__name__)
