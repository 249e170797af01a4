"""The live answer center: the current FAQ index behind an atomic reference."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from bot.faqdb.store import FaqStore
from bot.store import AppStore, StoreError
from faq_index import Decision, Encoder, FaqIndex, load_faq_files
from faq_index.feedback import Feedback
from faq_index.incremental import (
    needs_recalibration,
    relearned_calibration,
    with_calibration,
    with_changes_fast,
    with_feedback_pending,
)

logger = logging.getLogger(__name__)

# Edits pending recalibration for this long are recalibrated even when few.
RECALIBRATE_AFTER_S = 300.0


class FaqService:
    """Implements actions' ``FaqAnswerer`` port over a swappable :class:`FaqIndex`."""

    def __init__(
        self,
        *,
        index: FaqIndex,
        store: AppStore,
        faq_store: FaqStore | None = None,
        revision: int = 0,
    ) -> None:
        self._index = index
        self._store = store
        self._faq_store = faq_store
        self._revision = revision
        self._uncalibrated = 0  # entries changed since the calibration in use was learned
        self._uncalibrated_since = 0.0  # time.monotonic() of the first of them
        self._refresh_lock = threading.Lock()
        # called with the new revision after this process applied a change (the change
        # bus tells the other replicas; see bot/pubsub.py)
        self.on_change: Callable[[int], None] | None = None

    @classmethod
    def from_store(
        cls,
        faq_store: FaqStore,
        *,
        encoder: Encoder,
        store: AppStore,
        seed_paths: Sequence[Path] = (),
        cache_dir: Path | None = None,
        extra_positives: Iterable[tuple[str, str, str]] = (),
        extra_negatives: Iterable[tuple[str, str]] = (),
    ) -> FaqService:
        """Build the index from the database, seeding it from FAQ files on first start;
        ``extra_positives`` (text, lang, faq_id) / ``extra_negatives`` (text, lang):
        real questions staff mapped to an entry / dismissed as not ours, learned
        from by the calibration and the classifier head (``faq_index.feedback``)."""
        if seed_paths and faq_store.revision() == 0:
            faq_store.seed(load_faq_files(seed_paths))
        entries, revision = faq_store.snapshot()
        index = FaqIndex.build(
            entries,
            encoder,
            cache_dir=cache_dir,
            extra_positives=extra_positives,
            extra_negatives=extra_negatives,
        )
        logger.info("FAQ index ready: %d entries at revision %d", len(entries), revision)
        return cls(index=index, store=store, faq_store=faq_store, revision=revision)

    @property
    def index(self) -> FaqIndex:
        """The index in service now."""
        return self._index

    @property
    def revision(self) -> int:
        """The FAQ store revision the index in service was built at."""
        return self._revision

    @property
    def recalibration_pending(self) -> bool:
        """Whether entries changed since the calibration in use was learned."""
        return self._uncalibrated > 0

    def swap(self, index: FaqIndex) -> None:
        """Put a new index in service; in-flight queries finish on the old one."""
        self._index = index

    def refresh(self) -> bool:
        """Apply the store's changes since the served revision; True when the index changed.

        Only changed entries are embedded; each new index is swapped in whole, so a
        query sees the old index or the new one, never a mix.
        """
        if self._faq_store is None:
            return False
        with self._refresh_lock:
            if self._faq_store.revision() == self._revision:
                return False
            changes = self._faq_store.changes_since(self._revision)
            if changes.upserts or changes.removed:
                # Serve the edit at once with the current score calibration;
                # recalibrate() relearns it when enough has changed.
                self.swap(with_changes_fast(self._index, changes.upserts, changes.removed))
                if not self._uncalibrated:
                    self._uncalibrated_since = time.monotonic()
                self._uncalibrated += len(changes.upserts) + len(changes.removed)
                logger.info(
                    "FAQ index at revision %d: %d changed, %d removed",
                    changes.revision,
                    len(changes.upserts),
                    len(changes.removed),
                )
            self._revision = changes.revision
        if self.on_change is not None:
            self.on_change(changes.revision)
        return True

    def learn_from_staff(
        self,
        extra_positives: Iterable[tuple[str, str, str]] = (),
        extra_negatives: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Replace the staff verdicts the calibration learns from (the whole current
        lists); served answers change at the next :meth:`recalibrate`, which is due
        at once (the reloader runs it in the background on its next quiet tick);
        until then the current model keeps serving."""
        feedback = Feedback.of(extra_positives, extra_negatives)
        with self._refresh_lock:
            if feedback == self._index.feedback:
                return
            self.swap(with_feedback_pending(self._index, feedback))
            if not self._uncalibrated:
                self._uncalibrated_since = time.monotonic()
            # New verdicts bear on every entry's calibration: due at the reloader's
            # next quiet tick, not after RECALIBRATE_AFTER_S like a single edit.
            self._uncalibrated += max(1, len(self._index))

    def recalibrate(self, *, force: bool = False) -> bool:
        """Relearn score calibration after live edits; True if it ran.

        Runs when enough entries changed since the last calibration (see
        ``faq_index.incremental.needs_recalibration``), when the oldest such change
        is ``RECALIBRATE_AFTER_S`` old, or with ``force`` and any change. The slow
        part runs outside the lock; edits served meanwhile keep the new calibration.
        """
        with self._refresh_lock:
            pending, current = self._uncalibrated, self._index
            if not pending:
                return False
            waited = time.monotonic() - self._uncalibrated_since
            due = needs_recalibration(pending, len(current)) or waited >= RECALIBRATE_AFTER_S
            if not (force or due):
                return False
        calibration = relearned_calibration(current)  # slow: edits are not held up
        with self._refresh_lock:
            self.swap(with_calibration(self._index, calibration))
            self._uncalibrated -= pending
            if self._uncalibrated:
                self._uncalibrated_since = time.monotonic()
            logger.info("FAQ calibration relearned over %d entries", len(current))
            return True

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


class FaqReloader:
    """Polls the FAQ store's change marker and applies changes (a ``Background`` task)."""

    def __init__(self, service: FaqService, *, interval_s: float = 1.0) -> None:
        self._service = service
        self._interval_s = interval_s
        self._woken: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._recalibration: asyncio.Task[None] | None = None

    def wake(self, revision: str = "") -> None:
        """Look now, not at the next poll (from the event loop; ``revision``: the one
        another replica announced, skipped when this one serves it already)."""
        if revision.isdigit() and int(revision) <= self._service.revision:
            return
        if self._woken is not None:
            self._woken.set()

    async def start(self) -> None:
        """Start polling."""
        self._woken = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="faq-reloader")

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._recalibration is not None:
            await asyncio.gather(
                self._recalibration, return_exceptions=True
            )  # a thread: let it end
            self._recalibration = None

    async def _run(self) -> None:
        woken = self._woken or asyncio.Event()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=self._interval_s)
            woken.clear()
            try:
                changed = await asyncio.to_thread(self._service.refresh)
            except Exception as exc:  # noqa: BLE001 - keep serving the old index, retry
                logger.error("FAQ reload failed, serving the previous index: %s", exc)
                continue
            # Recalibrate on a quiet tick, beside the polling: edits keep being served
            # (no thread is started while nothing is pending, the usual case).
            idle = self._recalibration is None or self._recalibration.done()
            if not changed and idle and self._service.recalibration_pending:
                self._recalibration = asyncio.create_task(self._recalibrate())

    async def _recalibrate(self) -> None:
        try:
            await asyncio.to_thread(self._service.recalibrate)
        except Exception as exc:  # noqa: BLE001 - the current calibration stays in use
            logger.error("FAQ recalibration failed: %s", exc)
