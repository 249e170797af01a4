"""FAQ entries in the app database, one row each, with an audit trail and a change marker.

Every change bumps a revision counter (one row in ``faq_revision``) in the same
transaction and stamps the changed row with it, so a replica polls one cheap
row and then reads only the rows changed since the revision it serves.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bot.db import as_utc, metadata, storage_error
from bot.faqdb.codec import from_json, to_json
from bot.faqdb.errors import DuplicateEntry, EditConflict, UnknownEntry
from bot.faqdb.model import AuditRecord, Changes, ImportPlan, StoredEntry
from bot.store import StoreError
from faq_index import FaqEntry

logger = logging.getLogger(__name__)

faq_entries = sa.Table(
    "faq_entries",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("content", sa.Text, nullable=False),  # JSON, FAQ file contract
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retired", sa.Boolean, nullable=False, default=False),
    sa.Column("revision", sa.Integer, nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
)

faq_audit = sa.Table(
    "faq_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("entry_id", sa.String(100), nullable=False, index=True),
    sa.Column("before", sa.Text, nullable=True),
    sa.Column("after", sa.Text, nullable=True),
)

faq_revision = sa.Table(
    "faq_revision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("revision", sa.Integer, nullable=False),
)


class FaqStore:
    """FAQ entries, their audit trail and the change marker, over SQLAlchemy Core."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        try:
            with engine.begin() as conn:
                if conn.execute(sa.select(faq_revision.c.id)).first() is None:
                    conn.execute(faq_revision.insert().values(id=1, revision=0))
        except sa.exc.IntegrityError:
            pass  # another replica created the counter row first
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot open the FAQ tables", exc, StoreError) from exc

    # -- reading ---------------------------------------------------------

    def revision(self) -> int:
        """The change marker: bumped by every change (cheap to poll)."""
        with self._tx(write=False) as conn:
            return _current_revision(conn)

    def snapshot(self) -> tuple[list[FaqEntry], int]:
        """All live (not retired) entries in creation order, and the revision they are at."""
        with self._tx(write=False) as conn:
            rev = _current_revision(conn)
            rows = conn.execute(
                sa.select(faq_entries.c.id, faq_entries.c.content)
                .where(faq_entries.c.retired.is_(False), faq_entries.c.revision <= rev)
                .order_by(faq_entries.c.position, faq_entries.c.id)
            ).all()
        return [from_json(r.content, f"database entry {r.id}") for r in rows], rev

    def changes_since(self, revision: int) -> Changes:
        """What changed after ``revision``: entries to upsert and ids to remove."""
        with self._tx(write=False) as conn:
            rev = _current_revision(conn)
            rows = conn.execute(
                sa.select(faq_entries.c.id, faq_entries.c.content, faq_entries.c.retired)
                .where(faq_entries.c.revision > revision, faq_entries.c.revision <= rev)
                .order_by(faq_entries.c.position)
            ).all()
        upserts = tuple(
            from_json(r.content, f"database entry {r.id}") for r in rows if not r.retired
        )
        removed = tuple(r.id for r in rows if r.retired)
        return Changes(upserts, removed, rev)

    def get(self, faq_id: str) -> StoredEntry | None:
        """One entry by id (retired or not), or None."""
        with self._tx(write=False) as conn:
            row = conn.execute(sa.select(faq_entries).where(faq_entries.c.id == faq_id)).first()
        return None if row is None else _stored(row)

    def search(self, query: str = "", *, include_retired: bool = False) -> list[StoredEntry]:
        """Entries whose id, tags or texts contain ``query`` (case-insensitive), by id."""
        stmt = sa.select(faq_entries).order_by(faq_entries.c.id)
        if not include_retired:
            stmt = stmt.where(faq_entries.c.retired.is_(False))
        with self._tx(write=False) as conn:
            rows = conn.execute(stmt).all()
        needle = query.strip().casefold()
        found = [_stored(r) for r in rows]
        return [s for s in found if not needle or needle in _haystack(s.entry)]

    def audit(self, *, limit: int = 200, entry_id: str | None = None) -> list[AuditRecord]:
        """Audited changes, newest first (optionally of one entry)."""
        stmt = sa.select(faq_audit).order_by(faq_audit.c.id.desc()).limit(limit)
        if entry_id is not None:
            stmt = stmt.where(faq_audit.c.entry_id == entry_id)
        with self._tx(write=False) as conn:
            rows = conn.execute(stmt).all()
        return [
            AuditRecord(
                id=r.id,
                at=as_utc(r.at),
                actor=r.actor,
                action=r.action,
                entry_id=r.entry_id,
                before=json.loads(r.before) if r.before else None,
                after=json.loads(r.after) if r.after else None,
            )
            for r in rows
        ]

    # -- changing --------------------------------------------------------

    def add(self, entry: FaqEntry, *, actor: str) -> StoredEntry:
        """Add a new entry; refuses an id already used (even by a retired entry)."""
        with self._tx() as conn:
            existing = _row(conn, entry.id)
            if existing is not None:
                what = "a retired entry" if existing.retired else "an entry"
                raise DuplicateEntry(f"the id '{entry.id}' is already used by {what}")
            rev = _bump(conn)
            _insert(conn, entry, rev)
            _audit(conn, actor, "add", entry.id, None, entry)
            return _stored(_row(conn, entry.id))

    def update(
        self, entry: FaqEntry, *, actor: str, expected_version: int | None = None
    ) -> StoredEntry:
        """Replace an entry's content; refuses when it changed since ``expected_version``."""
        with self._tx() as conn:
            row = _checked(conn, entry.id, expected_version)
            before = from_json(row.content, entry.id)
            if before.content_key() == entry.content_key():
                return _stored(row)
            rev = _bump(conn)
            _set(conn, entry.id, rev, row.version + 1, content=to_json(entry))
            _audit(conn, actor, "edit", entry.id, before, entry)
            return _stored(_row(conn, entry.id))

    def retire(
        self, faq_id: str, *, actor: str, expected_version: int | None = None
    ) -> StoredEntry:
        """Take an entry out of service (kept, audited, restorable)."""
        return self._set_retired(faq_id, True, actor, expected_version)

    def restore(self, faq_id: str, *, actor: str) -> StoredEntry:
        """Put a retired entry back in service."""
        return self._set_retired(faq_id, False, actor, None)

    def _set_retired(
        self, faq_id: str, retired: bool, actor: str, expected_version: int | None
    ) -> StoredEntry:
        with self._tx() as conn:
            row = _checked(conn, faq_id, expected_version)
            if row.retired == retired:
                return _stored(row)
            rev = _bump(conn)
            _set(conn, faq_id, rev, row.version + 1, retired=retired)
            entry = from_json(row.content, faq_id)
            action = "retire" if retired else "restore"
            before, after = (entry, None) if retired else (None, entry)
            _audit(conn, actor, action, faq_id, before, after)
            return _stored(_row(conn, faq_id))

    def seed(self, entries: Sequence[FaqEntry], *, actor: str = "seed") -> bool:
        """Fill an empty store (first start); returns False when it already has entries."""
        try:
            with self._tx() as conn:
                if conn.execute(sa.select(sa.func.count()).select_from(faq_entries)).scalar():
                    return False
                rev = _bump(conn)
                for entry in entries:
                    _insert(conn, entry, rev)
                    _audit(conn, actor, "seed", entry.id, None, entry)
        except StoreError as exc:
            if isinstance(exc.__cause__, sa.exc.IntegrityError):
                return False  # another replica seeded at the same moment
            raise
        logger.info("FAQ store seeded with %d entries", len(entries))
        return True

    def import_entries(
        self,
        entries: Sequence[FaqEntry],
        *,
        actor: str,
        retire_missing: bool = False,
        dry_run: bool = False,
    ) -> ImportPlan:
        """Add and update ``entries`` (and retire the others if asked) in one transaction."""
        with self._tx(write=not dry_run) as conn:
            rows = {r.id: r for r in conn.execute(sa.select(faq_entries)).all()}
            added: list[str] = []
            changed: list[str] = []
            unchanged: list[str] = []
            for entry in entries:
                row = rows.get(entry.id)
                if row is None:
                    added.append(entry.id)
                elif row.retired or from_json(row.content, entry.id) != entry:
                    changed.append(entry.id)
                else:
                    unchanged.append(entry.id)
            incoming = {e.id for e in entries}
            retired = [
                i for i, r in rows.items() if retire_missing and not r.retired and i not in incoming
            ]
            plan = ImportPlan(tuple(added), tuple(changed), tuple(unchanged), tuple(retired))
            if dry_run or not plan.has_changes:
                return plan
            rev = _bump(conn)
            by_id = {e.id: e for e in entries}
            for faq_id in added:
                _insert(conn, by_id[faq_id], rev)
                _audit(conn, actor, "import", faq_id, None, by_id[faq_id])
            for faq_id in changed:
                row = rows[faq_id]
                before = None if row.retired else from_json(row.content, faq_id)
                content = to_json(by_id[faq_id])
                _set(conn, faq_id, rev, row.version + 1, content=content, retired=False)
                _audit(conn, actor, "import", faq_id, before, by_id[faq_id])
            for faq_id in retired:
                row = rows[faq_id]
                _set(conn, faq_id, rev, row.version + 1, retired=True)
                _audit(conn, actor, "retire", faq_id, from_json(row.content, faq_id), None)
            return plan

    @contextlib.contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[sa.Connection]:
        try:
            if write:
                with self._engine.begin() as conn:
                    yield conn
            else:
                with self._engine.connect() as conn:
                    yield conn
        except sa.exc.SQLAlchemyError as exc:
            logger.error("FAQ store: %s", type(exc).__name__)
            raise storage_error("the FAQ database failed", exc, StoreError) from exc


def _current_revision(conn: sa.Connection) -> int:
    value = conn.execute(sa.select(faq_revision.c.revision).where(faq_revision.c.id == 1)).scalar()
    return int(value or 0)


def _bump(conn: sa.Connection) -> int:
    # The UPDATE locks the counter row until commit, so revisions commit in order.
    conn.execute(
        faq_revision.update()
        .where(faq_revision.c.id == 1)
        .values(revision=faq_revision.c.revision + 1)
    )
    return _current_revision(conn)


def _row(conn: sa.Connection, faq_id: str) -> Any:
    return conn.execute(sa.select(faq_entries).where(faq_entries.c.id == faq_id)).first()


def _checked(conn: sa.Connection, faq_id: str, expected_version: int | None) -> Any:
    row = _row(conn, faq_id)
    if row is None:
        raise UnknownEntry(f"no entry has the id '{faq_id}'")
    if expected_version is not None and row.version != expected_version:
        raise EditConflict(
            f"'{faq_id}' was changed by someone else since you opened it; reload and redo"
        )
    return row


def _insert(conn: sa.Connection, entry: FaqEntry, rev: int) -> None:
    position = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(faq_entries.c.position), 0))
    ).scalar()
    conn.execute(
        faq_entries.insert().values(
            id=entry.id,
            content=to_json(entry),
            version=1,
            updated_at=datetime.now(UTC),
            retired=False,
            revision=rev,
            position=int(position or 0) + 1,
        )
    )


def _set(conn: sa.Connection, faq_id: str, rev: int, version: int, **values: Any) -> None:
    conn.execute(
        faq_entries.update()
        .where(faq_entries.c.id == faq_id)
        .values(version=version, revision=rev, updated_at=datetime.now(UTC), **values)
    )


def _audit(
    conn: sa.Connection,
    actor: str,
    action: str,
    faq_id: str,
    before: FaqEntry | None,
    after: FaqEntry | None,
) -> None:
    conn.execute(
        faq_audit.insert().values(
            at=datetime.now(UTC),
            actor=actor[:200],
            action=action,
            entry_id=faq_id,
            before=None if before is None else to_json(before),
            after=None if after is None else to_json(after),
        )
    )


def _stored(row: Any) -> StoredEntry:
    return StoredEntry(
        entry=from_json(row.content, f"database entry {row.id}"),
        version=row.version,
        updated_at=as_utc(row.updated_at),
        retired=bool(row.retired),
    )


def _haystack(entry: FaqEntry) -> str:
    parts: Iterable[str] = [
        entry.id,
        *entry.tags,
        *entry.question.values(),
        *entry.answer.values(),
        *(p for items in entry.paraphrases.values() for p in items),
    ]
    return "\n".join(parts).casefold()


__all__ = ["AuditRecord", "Changes", "FaqStore", "ImportPlan", "StoredEntry"]
