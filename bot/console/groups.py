"""Unanswered questions grouped by meaning: incremental clustering on the FAQ's encoder.

Each unanswered question is embedded once, lazily (a question whose text was
already grouped reuses that group without embedding): it joins the nearest group
of its language whose centroid is at least ``threshold`` cosine away, or starts a
new group. The assignment is kept in ``unanswered_questions.group_id``, so a page
view only counts rows per group (an index covers it) and never re-clusters.

Groups are per language: the default encoder is an English model, and a Spanish
and an English question are mapped to an entry in their own language anyway.

A group is ``open`` (shown to staff), ``mapped`` (its questions became
paraphrases of an entry) or ``dismissed`` ("not ours"). Dismissed groups keep
attracting similar questions, which stay hidden; a mapped group does not (a
question the bot still misses after the mapping should be seen again). Each
question of a closed group is kept in ``faq_feedback`` with the verdict, the
entry, who and when: the audit of these actions, and labelled data for the
answer-quality work.
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from bot.db import StorageError, as_utc, metadata, storage_error
from bot.store import unanswered

logger = logging.getLogger(__name__)

OPEN, MAPPED, DISMISSED = "open", "mapped", "dismissed"
# Cosine similarity from which a question joins a group. all-MiniLM-L6-v2 (English):
# paraphrases of one intent score ~0.4-0.7 against each other, different intents mostly
# below 0.3. For Spanish the Grouper mixes in character n-grams (see bot.admin.console).
DEFAULT_THRESHOLD = 0.45
# PostgreSQL: one replica groups at a time (others skip that round).
_LOCK_KEY = zlib.crc32(b"faro unanswered grouping")

_tz = sa.DateTime(timezone=True)

unanswered_groups = sa.Table(
    "unanswered_groups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("centroid", sa.LargeBinary, nullable=False),  # float32, unit length
    sa.Column("size", sa.Integer, nullable=False),  # distinct texts averaged into it
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("nearest_faq_id", sa.String(200)),
    sa.Column("nearest_score", sa.Float),
    sa.Column("nearest_revision", sa.Integer, nullable=False),
    sa.Column("created_at", _tz, nullable=False),
    sa.Column("closed_at", _tz),
    sa.Column("closed_by", sa.String(200)),
    sa.Column("faq_id", sa.String(200)),
    sa.Index("ix_unanswered_groups_state", "state", "lang"),
)

faq_feedback = sa.Table(
    "faq_feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("verdict", sa.String(12), nullable=False),  # not_ours | mapped
    sa.Column("faq_id", sa.String(200)),
    sa.Column("group_id", sa.Integer),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", _tz, nullable=False),
    sa.Index("ix_faq_feedback_verdict", "verdict", "at"),
)

Vector = npt.NDArray[np.float32]
# texts of one language -> one vector each (any dimension, the same for a language)
Embed = Callable[[list[str], str], npt.NDArray[np.float32]]
# text, lang -> (entry id, score) of the nearest FAQ entry, or None
Nearest = Callable[[str, str], tuple[str, float] | None]


class GroupError(StorageError):
    """The groups could not be read or written."""


@dataclass(frozen=True, slots=True)
class Group:
    """A group of similar unanswered questions, as staff see it."""

    id: int
    lang: str
    state: str
    count: int
    first_seen: datetime
    last_seen: datetime
    examples: tuple[str, ...]
    nearest_faq_id: str | None


@dataclass(frozen=True, slots=True)
class Question:
    """One distinct question of a group: its text (as first asked), language and count."""

    text: str
    lang: str
    count: int


@dataclass(frozen=True, slots=True)
class Overview:
    """The open groups, biggest first, and how many questions wait to be grouped."""

    groups: list[Group]
    open_groups: int
    pending: int


class UnansweredGroups:
    """The grouping of unanswered questions and the actions on groups."""

    def __init__(self, engine: sa.Engine, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self._engine = engine
        self._threshold = threshold

    # -- grouping ----------------------------------------------------------

    def assign(self, embed: Embed, *, limit: int = 500) -> int:
        """Group up to ``limit`` ungrouped questions (oldest first); how many were grouped."""
        with _translated("cannot group unanswered questions"), self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                got = conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(_LOCK_KEY)))
                if not got.scalar():
                    return 0  # another replica is grouping right now
            rows = conn.execute(
                sa.select(
                    unanswered.c.id, unanswered.c.lang, unanswered.c.text, unanswered.c.normalized
                )
                .where(unanswered.c.group_id.is_(None))
                .order_by(unanswered.c.id)
                .limit(limit)
            ).all()
            if not rows:
                return 0
            by_text: dict[tuple[str, str], list[int]] = {}
            first_text: dict[tuple[str, str], str] = {}
            for r in rows:
                key = (r.normalized, r.lang)
                by_text.setdefault(key, []).append(r.id)
                first_text.setdefault(key, r.text)
            chosen = _known_groups(conn, by_text)
            fresh = [k for k in by_text if k not in chosen]
            if fresh:
                chosen.update(self._cluster(conn, embed, fresh, first_text))
            conn.execute(
                unanswered.update()
                .where(unanswered.c.id == sa.bindparam("qid"))
                .values(group_id=sa.bindparam("gid")),
                [{"qid": qid, "gid": chosen[key]} for key, ids in by_text.items() for qid in ids],
            )
        return len(rows)

    def _cluster(
        self,
        conn: sa.Connection,
        embed: Embed,
        keys: list[tuple[str, str]],
        first_text: dict[tuple[str, str], str],
    ) -> dict[tuple[str, str], int]:
        langs = sorted({lang for _, lang in keys})
        chosen: dict[tuple[str, str], int] = {}
        now = datetime.now(UTC)
        for lang in langs:
            mine = [k for k in keys if k[1] == lang]
            vectors = _unit(embed([first_text[k] for k in mine], lang))
            existing = conn.execute(
                sa.select(
                    unanswered_groups.c.id, unanswered_groups.c.centroid, unanswered_groups.c.size
                )
                .where(unanswered_groups.c.lang == lang)
                .where(unanswered_groups.c.state.in_((OPEN, DISMISSED)))
            ).all()
            dim = vectors.shape[1]
            matrix = np.zeros((len(existing) + len(mine), dim), dtype=np.float32)
            ids: list[int] = []
            sizes: list[int] = []
            for row in existing:
                stored = np.frombuffer(row.centroid, dtype=np.float32)
                if stored.shape[0] == dim:  # another encoder's groups do not attract
                    matrix[len(ids)] = stored
                    ids.append(row.id)
                    sizes.append(row.size)
            changed: set[int] = set()
            for i, key in enumerate(mine):
                v = vectors[i]
                n = len(ids)
                best = int(np.argmax(matrix[:n] @ v)) if n else -1
                if best >= 0 and float(matrix[best] @ v) >= self._threshold:
                    merged = matrix[best] * sizes[best] + v
                    matrix[best] = merged / max(float(np.linalg.norm(merged)), 1e-9)
                    sizes[best] += 1
                    changed.add(best)
                    chosen[key] = ids[best]
                    continue
                gid = conn.execute(
                    unanswered_groups.insert().values(
                        lang=lang,
                        centroid=v.astype(np.float32).tobytes(),
                        size=1,
                        state=OPEN,
                        nearest_revision=-1,
                        created_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                matrix[n] = v
                ids.append(int(gid))
                sizes.append(1)
                chosen[key] = int(gid)
            if changed:
                conn.execute(
                    unanswered_groups.update()
                    .where(unanswered_groups.c.id == sa.bindparam("gid"))
                    .values(centroid=sa.bindparam("c"), size=sa.bindparam("s")),
                    [
                        {"gid": ids[j], "c": matrix[j].tobytes(), "s": sizes[j]}
                        for j in sorted(changed)
                    ],
                )
        return chosen

    def refresh_nearest(self, nearest: Nearest, revision: int, *, limit: int = 20) -> int:
        """Find the nearest FAQ entry of open groups not looked up at FAQ ``revision``."""
        with _translated("cannot read the groups"), self._engine.connect() as conn:
            stale = conn.execute(
                sa.select(unanswered_groups.c.id, unanswered_groups.c.lang)
                .where(unanswered_groups.c.state == OPEN)
                .where(unanswered_groups.c.nearest_revision != revision)
                .order_by(unanswered_groups.c.size.desc(), unanswered_groups.c.id)
                .limit(limit)
            ).all()
            labels = {
                row.id: qs[0].text for row in stale if (qs := _questions(conn, row.id, limit=1))
            }
        done = 0
        for row in stale:
            found = nearest(labels[row.id], row.lang) if row.id in labels else None
            with _translated("cannot update a group"), self._engine.begin() as conn:
                conn.execute(
                    unanswered_groups.update()
                    .where(unanswered_groups.c.id == row.id)
                    .values(
                        nearest_faq_id=found[0] if found else None,
                        nearest_score=found[1] if found else None,
                        nearest_revision=revision,
                    )
                )
            done += 1
        return done

    # -- reading -----------------------------------------------------------

    def overview(self, *, limit: int = 30, examples: int = 3) -> Overview:
        """The biggest open groups with a few examples each."""
        n = sa.func.count().label("n")
        query = (
            sa.select(
                unanswered.c.group_id,
                n,
                sa.func.min(unanswered.c.asked_at),
                sa.func.max(unanswered.c.asked_at),
            )
            .where(unanswered.c.group_id.in_(_open_ids()))
            .group_by(unanswered.c.group_id)
            .order_by(n.desc(), unanswered.c.group_id)
            .limit(limit)
        )
        with _translated("cannot read the groups"), self._engine.connect() as conn:
            heads = conn.execute(query).all()
            open_groups = conn.execute(
                sa.select(sa.func.count())
                .select_from(unanswered_groups)
                .where(unanswered_groups.c.state == OPEN)
            ).scalar_one()
            pending = conn.execute(
                sa.select(sa.func.count())
                .select_from(unanswered)
                .where(unanswered.c.group_id.is_(None))
            ).scalar_one()
            ids = [h[0] for h in heads]
            info = {
                r.id: r
                for r in conn.execute(
                    sa.select(
                        unanswered_groups.c.id,
                        unanswered_groups.c.lang,
                        unanswered_groups.c.state,
                        unanswered_groups.c.nearest_faq_id,
                    ).where(unanswered_groups.c.id.in_(ids))
                ).all()
            }
            texts = _examples(conn, ids, examples)
        groups = [
            Group(
                id=h[0],
                lang=info[h[0]].lang,
                state=info[h[0]].state,
                count=h[1],
                first_seen=as_utc(h[2]),
                last_seen=as_utc(h[3]),
                examples=tuple(texts.get(h[0], ())),
                nearest_faq_id=info[h[0]].nearest_faq_id,
            )
            for h in heads
            if h[0] in info
        ]
        return Overview(groups=groups, open_groups=int(open_groups), pending=int(pending))

    def group(self, group_id: int) -> Group | None:
        """One group (any state), or None."""
        with _translated("cannot read a group"), self._engine.connect() as conn:
            row = conn.execute(
                sa.select(unanswered_groups).where(unanswered_groups.c.id == group_id)
            ).first()
            if row is None:
                return None
            stats = conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.min(unanswered.c.asked_at),
                    sa.func.max(unanswered.c.asked_at),
                ).where(unanswered.c.group_id == group_id)
            ).one()
            texts = _examples(conn, [group_id], 3)
        now = datetime.now(UTC)
        return Group(
            id=row.id,
            lang=row.lang,
            state=row.state,
            count=int(stats[0]),
            first_seen=as_utc(stats[1]) if stats[1] else now,
            last_seen=as_utc(stats[2]) if stats[2] else now,
            examples=tuple(texts.get(group_id, ())),
            nearest_faq_id=row.nearest_faq_id,
        )

    def questions(self, group_id: int, *, limit: int = 100) -> list[Question]:
        """The group's distinct questions, most asked first."""
        with _translated("cannot read a group"), self._engine.connect() as conn:
            return _questions(conn, group_id, limit=limit)

    def feedback_mark(self) -> tuple[int, int]:
        """(newest id, count) of the kept verdicts: changes when a group is closed (cheap)."""
        query = sa.select(sa.func.max(faq_feedback.c.id), sa.func.count())
        with _translated("cannot read the feedback"), self._engine.connect() as conn:
            newest, count = conn.execute(query).one()
        return int(newest or 0), int(count)

    def feedback(self, *, verdict: str | None = None, limit: int = 1000) -> list[dict[str, object]]:
        """Closed groups' questions with their verdict, newest first."""
        query = sa.select(faq_feedback).order_by(faq_feedback.c.id.desc()).limit(limit)
        if verdict is not None:
            query = query.where(faq_feedback.c.verdict == verdict)
        with _translated("cannot read the feedback"), self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query).all()]

    # -- actions -----------------------------------------------------------

    def close(
        self,
        group_id: int,
        *,
        state: str,
        actor: str,
        questions: Sequence[Question],
        faq_id: str | None = None,
    ) -> bool:
        """Mark an open group mapped or dismissed and keep its questions; False if not open."""
        if state not in (MAPPED, DISMISSED):
            raise ValueError(f"not a closing state: {state!r}")
        now = datetime.now(UTC)
        verdict = "mapped" if state == MAPPED else "not_ours"
        with _translated("cannot close a group"), self._engine.begin() as conn:
            done = conn.execute(
                unanswered_groups.update()
                .where(unanswered_groups.c.id == group_id)
                .where(unanswered_groups.c.state == OPEN)
                .values(state=state, closed_at=now, closed_by=actor[:200], faq_id=faq_id)
            ).rowcount
            if not done:
                return False
            if questions:
                conn.execute(
                    faq_feedback.insert(),
                    [
                        {
                            "question": q.text,
                            "lang": q.lang,
                            "verdict": verdict,
                            "faq_id": faq_id,
                            "group_id": group_id,
                            "actor": actor[:200],
                            "at": now,
                        }
                        for q in questions
                    ],
                )
        logger.info("unanswered group %d %s by %s", group_id, state, actor)
        return True

    def per_minute(self, since: datetime) -> list[tuple[datetime, str, int]]:
        """Unanswered questions per minute since ``since``: (minute, topic, count).

        The topic is the nearest FAQ entry's id of the question's group ("ungrouped"
        before grouping, "other" when no entry is near). Counted by the database.
        """
        with _translated("cannot read the question rates"), self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                minute: Any = sa.func.date_trunc("minute", unanswered.c.asked_at)
            else:  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" (UTC)
                minute = sa.func.strftime("%Y-%m-%d %H:%M", unanswered.c.asked_at)
            rows = conn.execute(
                sa.select(minute, unanswered.c.group_id, sa.func.count())
                .where(unanswered.c.asked_at >= since)
                .group_by(minute, unanswered.c.group_id)
            ).all()
            ids = sorted({gid for _, gid, _ in rows if gid is not None})
            near = dict(
                conn.execute(
                    sa.select(unanswered_groups.c.id, unanswered_groups.c.nearest_faq_id).where(
                        unanswered_groups.c.id.in_(ids)
                    )
                ).all()
            )
        counts: dict[tuple[datetime, str], int] = {}
        for at, gid, n in rows:
            when = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
            topic = near.get(gid) or ("ungrouped" if gid is None else "other")
            key = (as_utc(when).replace(second=0, microsecond=0), topic)
            counts[key] = counts.get(key, 0) + int(n)
        return [(m, t, n) for (m, t), n in sorted(counts.items())]


def _open_ids() -> sa.Select[tuple[int]]:
    return sa.select(unanswered_groups.c.id).where(unanswered_groups.c.state == OPEN)


def _known_groups(
    conn: sa.Connection, by_text: dict[tuple[str, str], list[int]]
) -> dict[tuple[str, str], int]:
    """Texts already grouped (in a group that still attracts): their group, no embedding."""
    norms = sorted({norm for norm, _ in by_text})
    rows = conn.execute(
        sa.select(unanswered.c.normalized, unanswered.c.lang, sa.func.max(unanswered.c.group_id))
        .where(unanswered.c.normalized.in_(norms))
        .where(
            unanswered.c.group_id.in_(
                sa.select(unanswered_groups.c.id).where(
                    unanswered_groups.c.state.in_((OPEN, DISMISSED))
                )
            )
        )
        .group_by(unanswered.c.normalized, unanswered.c.lang)
    ).all()
    return {(norm, lang): int(gid) for norm, lang, gid in rows if (norm, lang) in by_text}


def _questions(conn: sa.Connection, group_id: int, *, limit: int) -> list[Question]:
    n = sa.func.count().label("n")
    rows = conn.execute(
        sa.select(sa.func.min(unanswered.c.text), unanswered.c.lang, n)
        .where(unanswered.c.group_id == group_id)
        .group_by(unanswered.c.normalized, unanswered.c.lang)
        .order_by(n.desc(), sa.func.min(unanswered.c.text))
        .limit(limit)
    ).all()
    return [Question(text=r[0], lang=r[1], count=int(r[2])) for r in rows]


def _examples(conn: sa.Connection, ids: list[int], per_group: int) -> dict[int, list[str]]:
    """The most asked distinct texts of each group."""
    if not ids:
        return {}
    n = sa.func.count().label("n")
    rows = conn.execute(
        sa.select(unanswered.c.group_id, unanswered.c.normalized, n)
        .where(unanswered.c.group_id.in_(ids))
        .group_by(unanswered.c.group_id, unanswered.c.normalized)
    ).all()
    top: dict[int, list[tuple[int, str]]] = {}
    for gid, norm, count in rows:
        top.setdefault(gid, []).append((-int(count), norm))
    picked = {gid: [norm for _, norm in sorted(items)[:per_group]] for gid, items in top.items()}
    wanted = sorted({norm for norms in picked.values() for norm in norms})
    shown = (
        dict(
            conn.execute(
                sa.select(unanswered.c.normalized, sa.func.min(unanswered.c.text))
                .where(unanswered.c.normalized.in_(wanted))
                .group_by(unanswered.c.normalized)
            ).all()
        )
        if wanted
        else {}
    )
    return {gid: [shown.get(norm, norm) for norm in norms] for gid, norms in picked.items()}


def _unit(vectors: npt.NDArray[np.float32]) -> Vector:
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    unit: Vector = (array / np.maximum(norms, 1e-9)).astype(np.float32)
    return unit


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise storage_error(what, exc, GroupError) from exc
