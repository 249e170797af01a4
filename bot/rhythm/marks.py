"""Review marks: "to review" items staff confirmed or edited, per incident phase (the audit).

An item (an FAQ entry or a template, about one component of one incident)
leaves the list once someone confirms it still agrees with the status page,
or edits it, during the incident's current phase; when the incident changes
phase or components, the phase key changes and the item is listed again.
Every mark is kept (who, when, which incident, phase and update): the
post-incident report shows them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.db import as_utc, storage_error
from bot.rhythm.review import ReviewItem
from bot.rhythm.tables import review_marks

logger = logging.getLogger(__name__)

ACTIONS = ("confirmed", "edited")


@dataclass(frozen=True, slots=True)
class ReviewMark:
    """Someone confirmed or edited one item during one phase of one incident."""

    incident_id: str
    phase: str
    item_kind: str
    item_key: str
    component: str
    action: str
    actor: str
    at: datetime
    update_id: str | None


def _ident(kind: str, key: str, component: str) -> tuple[str, str, str]:
    return kind, key, component


class ReviewMarks:
    """The review marks on the app database."""

    def __init__(self, engine: sa.Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def mark(
        self, item: ReviewItem, *, action: str, actor: str, at: datetime | None = None
    ) -> ReviewMark:
        """Record that ``actor`` confirmed or edited ``item`` in its incident's current phase."""
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        mark = ReviewMark(
            incident_id=item.incident_id,
            phase=item.phase,
            item_kind=item.kind,
            item_key=item.key,
            component=item.component,
            action=action,
            actor=actor[:200],
            at=at or self._clock(),
            update_id=item.update_id or None,
        )
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    review_marks.insert().values(
                        incident_id=mark.incident_id,
                        phase=mark.phase,
                        item_kind=mark.item_kind,
                        item_key=mark.item_key,
                        component=mark.component,
                        action=mark.action,
                        actor=mark.actor,
                        at=mark.at,
                        update_id=mark.update_id,
                    )
                )
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot record the review", exc) from exc
        logger.info(
            "review: %s %s %s (%s) by %s", item.kind, item.key, action, item.component, actor
        )
        return mark

    def of(self, items: Iterable[ReviewItem]) -> dict[tuple[str, str, str, str, str], ReviewMark]:
        """The marks standing for ``items``' incidents and phases, by (incident, phase, item)."""
        phases = {(i.incident_id, i.phase) for i in items}
        if not phases:
            return {}
        where = sa.or_(
            *(
                sa.and_(review_marks.c.incident_id == inc, review_marks.c.phase == ph)
                for inc, ph in phases
            )
        )
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    sa.select(review_marks).where(where).order_by(review_marks.c.id)
                ).all()
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot read the reviews", exc) from exc
        return {
            (r.incident_id, r.phase, *_ident(r.item_kind, r.item_key, r.component)): _mark(r)
            for r in rows
        }

    def recent(self, *, limit: int = 20) -> list[ReviewMark]:
        """The newest marks (the audit), newest first."""
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(
                    sa.select(review_marks).order_by(review_marks.c.id.desc()).limit(limit)
                ).all()
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot read the reviews", exc) from exc
        return [_mark(r) for r in rows]


def key_of(item: ReviewItem) -> tuple[str, str, str, str, str]:
    """The key :meth:`ReviewMarks.of` uses for ``item``."""
    return (item.incident_id, item.phase, *_ident(item.kind, item.key, item.component))


def _mark(r: sa.Row[tuple[object, ...]]) -> ReviewMark:
    return ReviewMark(
        incident_id=str(r.incident_id),
        phase=str(r.phase),
        item_kind=str(r.item_kind),
        item_key=str(r.item_key),
        component=str(r.component),
        action=str(r.action),
        actor=str(r.actor),
        at=as_utc(r.at),
        update_id=str(r.update_id) if r.update_id else None,
    )
