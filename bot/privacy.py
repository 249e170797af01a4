"""Customers' data: find, export and erase everything Faro holds about one subject,
and purge what is older than its retention horizon. Every run is audited.

A subject is a conversation id (``web:<session>``, ``telegram:<chat>``,
``slack:<team>:<user>``, ...), an email address or a phone number. Personal
data is found by column, so tables added later are covered when they follow
the convention: every table on :data:`bot.db.metadata` with a
``conversation_id`` or an ``address`` column (a column named so must hold
Faro's ids: another system's id gets another name), tables keyed by such a
row's id (``handoff_id``: a handoff's messages, audit and events), web
sessions by their id, and Rasa's tracker stores (``events.sender_id``). The
audit keeps a digest of the subject, never the subject itself.

The tables must be defined (their modules imported) before use: the CLI and the
app get them through :mod:`bot.wiring`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.db import StorageError, metadata, storage_error
from bot.periodic import Periodic

logger = logging.getLogger(__name__)

privacy_audit = sa.Table(
    "privacy_audit",
    metadata,
    sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("subject_digest", sa.String(64), nullable=True),
    sa.Column("counts", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("id", name="pk_privacy_audit"),
)

TRACKER = "rasa_tracker"
# Expired security records, pruned with the rest: (table, column, kept for).
_EXPIRED = (
    ("slack_events", "received_at", timedelta(hours=2)),
    ("signin_failures", "last_at", timedelta(hours=1)),
    ("admin_sessions", "expires_at", timedelta(0)),
    ("admin_links", "expires_at", timedelta(0)),  # one-time console sign-in links
    ("telegram_updates", "received_at", timedelta(hours=48)),
)


class PrivacyError(StorageError):
    """Personal data could not be found, exported or erased (nothing half-done is hidden)."""


class BadSubject(PrivacyError):
    """The subject given is not a conversation id, an email address or a phone number."""


SUBJECT_HINT = "give a conversation id, an email address or a phone number"
# What names a customer (also the staff API schema's ``pattern``): a conversation id
# (``web:...``), an email or a phone; no control characters, no space at either end.
_TEXT, _WORD = r"[^\x00-\x1f\x7f]", r"[^\x00-\x20\x7f]"
_NOT_AT = r"[^@\x00-\x20\x7f]"
SUBJECT_PATTERN = (
    rf"^(?:[a-z]+:{_TEXT}*{_WORD}|{_NOT_AT}+@{_NOT_AT}+|\+?[0-9][0-9 ().-]{{2,40}}[0-9)])$"
)
_SUBJECT = re.compile(SUBJECT_PATTERN.removeprefix("^").removesuffix("$"))
MAX_SUBJECT = 300


def check_subject(given: str) -> str:
    """``given`` trimmed, or :class:`BadSubject` when it cannot name a customer."""
    given = given.strip(" \t\r\n\f\v")
    if not given or len(given) > MAX_SUBJECT:
        raise BadSubject(SUBJECT_HINT)
    if not _SUBJECT.fullmatch(given):
        raise BadSubject(f"{SUBJECT_HINT} (web:..., telegram:..., name@example.com, +34...)")
    return given


@dataclass(frozen=True, kw_only=True)
class Retention:
    """How long each kind of personal data is kept (days)."""

    conversations_days: int = 90
    unanswered_days: int = 180
    deliveries_days: int = 90
    left_subscribers_days: int = 30


@dataclass(frozen=True)
class Subject:
    """Who a request is about: the conversations and addresses found for it."""

    given: str
    conversation_ids: frozenset[str]
    addresses: frozenset[str]

    @property
    def digest(self) -> str:
        """What the audit keeps instead of the subject."""
        return hashlib.sha256(self.given.encode()).hexdigest()


@dataclass
class PersonalData:
    """The app database (and Rasa's tracker stores) seen as one customer's data."""

    engine: sa.Engine
    # where Rasa's tracker stores are, asked each time (Rasa may create them later)
    tracker_urls: Callable[[], Sequence[str]] = field(default=lambda: ())
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    # -- finding ----------------------------------------------------------------

    def find(self, given: str) -> Subject:
        """The conversations and addresses of ``given`` (a conversation id, email or phone)."""
        given = check_subject(given)
        conversations, addresses = set(), set()
        if _is_conversation(given):
            conversations.add(given)
        else:
            addresses.add(given)
        with self._connect("find the subject") as conn:
            for table in self._tables("address"):
                where = table.c.address.in_(addresses or {given})
                if "conversation_id" in table.c:
                    found = conn.execute(sa.select(table.c.conversation_id).where(where))
                    conversations.update(str(c) for (c,) in found)
            for table in self._tables("conversation_id"):
                if "address" in table.c and conversations:
                    found = conn.execute(
                        sa.select(table.c.address).where(table.c.conversation_id.in_(conversations))
                    )
                    addresses.update(str(a) for (a,) in found if a)
        return Subject(given, frozenset(conversations), frozenset(addresses))

    # -- export and erase ---------------------------------------------------------

    def export(self, subject: Subject, *, actor: str) -> dict[str, list[dict[str, Any]]]:
        """Every row about ``subject``, per table (Rasa's events under ``rasa_tracker``)."""
        out: dict[str, list[dict[str, Any]]] = {}
        with self._connect("export personal data") as conn:
            for table, where in self._selections(subject):
                rows = conn.execute(sa.select(table).where(where)).mappings().all()
                if rows:
                    out[table.name] = [_plain(dict(r)) for r in rows]
        events = self._tracker_rows(subject)
        if events:
            out[TRACKER] = events
        self._audit(actor, "export", subject, {k: len(v) for k, v in out.items()})
        return out

    def count(self, subject: Subject) -> dict[str, int]:
        """Rows about ``subject`` per table (every table checked, zeros included)."""
        counts: dict[str, int] = {}
        with self._connect("count personal data") as conn:
            for table, where in self._selections(subject):
                counts[table.name] = int(
                    conn.execute(
                        sa.select(sa.func.count()).select_from(table).where(where)
                    ).scalar_one()
                )
        counts[TRACKER] = len(self._tracker_rows(subject))
        return counts

    def erase(self, subject: Subject, *, actor: str) -> dict[str, int]:
        """Delete every row about ``subject`` (one transaction for the app database)."""
        counts: dict[str, int] = {}
        with self._transaction("erase personal data") as conn:
            for table, where in self._selections(subject):
                counts[table.name] = int(conn.execute(table.delete().where(where)).rowcount or 0)
        counts[TRACKER] = self._erase_tracker(subject)
        self._audit(actor, "erase", subject, counts)
        logger.info("privacy: erased %d rows of one subject", sum(counts.values()))
        return counts

    # -- retention ----------------------------------------------------------------

    def purge(self, retention: Retention, *, actor: str = "faro:retention") -> dict[str, int]:
        """Delete what is older than its horizon; counts per table (audited)."""
        now = self.clock()
        conv = now - timedelta(days=retention.conversations_days)
        plans: list[tuple[str, Callable[[sa.Table], Any]]] = [
            ("web_messages", lambda t: t.c.created_at < conv),
            ("web_sessions", lambda t: sa.func.coalesce(t.c.last_seen_at, t.c.created_at) < conv),
            ("incident_askers", lambda t: t.c.asked_at < conv),
            ("question_log", lambda t: t.c.asked_at < conv),  # the crisis rhythm's log
            ("subscription_offers", lambda t: t.c.offered_at < conv),
            (
                "unanswered_questions",
                lambda t: t.c.asked_at < now - timedelta(days=retention.unanswered_days),
            ),
            (
                "outbox",
                lambda t: sa.and_(
                    t.c.state.in_(("sent", "failed", "retired")),
                    sa.func.coalesce(t.c.sent_at, t.c.due_at)
                    < now - timedelta(days=retention.deliveries_days),
                ),
            ),
            # email/SMS confirmation requests once expired, their audit like deliveries
            ("contact_requests", lambda t: t.c.expires_at < conv),
            (
                "contact_events",
                lambda t: t.c.at < now - timedelta(days=retention.deliveries_days),
            ),
            (
                "subscriptions",
                lambda t: sa.and_(
                    t.c.active.is_(False),
                    t.c.retired_at < now - timedelta(days=retention.left_subscribers_days),
                ),
            ),
            *(
                (name, lambda t, c=column, k=kept: t.c[c] < now - k)
                for name, column, kept in _EXPIRED
            ),
        ]
        # handoffs closed before the horizon, their messages, audit and events first
        old_handoffs = metadata.tables.get("handoffs")
        if old_handoffs is not None:
            ended = sa.select(old_handoffs.c.id).where(
                old_handoffs.c.state == "closed", old_handoffs.c.closed_at < conv
            )
            children = [
                (t.name, lambda t, c=column: t.c[c].in_(ended))
                for t in metadata.sorted_tables
                if (parent := _parent_of(t)) is not None and (column := parent[0])
            ]
            plans = [
                *children,
                ("handoffs", lambda t: sa.and_(t.c.state == "closed", t.c.closed_at < conv)),
                *plans,
            ]
        counts: dict[str, int] = {}
        with self._transaction("purge old personal data") as conn:
            for name, condition in plans:
                table = metadata.tables.get(name)
                if table is not None:
                    counts[name] = int(
                        conn.execute(table.delete().where(condition(table))).rowcount or 0
                    )
        counts[TRACKER] = self._purge_tracker(conv)
        self._audit(actor, "purge", None, counts)
        if any(counts.values()):
            logger.info("privacy: purged %d old rows", sum(counts.values()))
        return counts

    def audit_log(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The newest privacy runs: when, who, what, how many rows (subjects as digests)."""
        with self._connect("read the privacy audit") as conn:
            rows = conn.execute(
                sa.select(privacy_audit).order_by(privacy_audit.c.id.desc()).limit(limit)
            ).mappings()
            return [{**_plain(dict(r)), "counts": json.loads(r["counts"])} for r in rows]

    # -- plumbing -------------------------------------------------------------------

    def _tables(self, column: str) -> list[sa.Table]:
        return [t for t in metadata.sorted_tables if column in t.c and t is not privacy_audit]

    def _selections(self, subject: Subject) -> list[tuple[sa.Table, Any]]:
        """(table, where) for every table holding rows about ``subject``, children first."""
        children: list[tuple[sa.Table, Any]] = []
        out: list[tuple[sa.Table, Any]] = []
        for table in reversed(metadata.sorted_tables):  # outbox before broadcasts, etc.
            if "conversation_id" not in table.c:
                parent = _parent_of(table)
                if parent is not None and subject.conversation_ids:
                    column, parent_table = parent
                    # rows keyed by a parent's id (a handoff's messages, audit, events)
                    owned = sa.select(parent_table.c.id).where(
                        parent_table.c.conversation_id.in_(subject.conversation_ids)
                    )
                    children.append((table, table.c[column].in_(owned)))
            conditions = []
            if "conversation_id" in table.c and subject.conversation_ids:
                conditions.append(table.c.conversation_id.in_(subject.conversation_ids))
            if "address" in table.c and subject.addresses:
                conditions.append(table.c.address.in_(subject.addresses))
            if table.name == "web_sessions":
                sids = {
                    c.removeprefix("web:") for c in subject.conversation_ids if c.startswith("web:")
                }
                if sids:
                    conditions.append(table.c.sid.in_(sids))
            if conditions:
                out.append((table, sa.or_(*conditions)))
        return children + out  # children go while their parents' rows still say whose

    def _tracker_rows(self, subject: Subject) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for url in self.tracker_urls():
            with _tracker(url, "read Rasa's tracker") as conn:
                if conn is None or not subject.conversation_ids:
                    continue
                events = _events_table(conn)
                found = conn.execute(
                    sa.select(events).where(events.c.sender_id.in_(subject.conversation_ids))
                ).mappings()
                rows.extend(_plain(dict(r)) for r in found)
        return rows

    def _erase_tracker(self, subject: Subject) -> int:
        gone = 0
        for url in self.tracker_urls():
            with _tracker(url, "erase from Rasa's tracker") as conn:
                if conn is None or not subject.conversation_ids:
                    continue
                events = _events_table(conn)
                gone += int(
                    conn.execute(
                        events.delete().where(events.c.sender_id.in_(subject.conversation_ids))
                    ).rowcount
                    or 0
                )
                conn.commit()
        return gone

    def _purge_tracker(self, before: datetime) -> int:
        gone = 0
        for url in self.tracker_urls():
            with _tracker(url, "purge Rasa's tracker") as conn:
                if conn is None:
                    continue
                events = _events_table(conn)
                # whole conversations whose last event is older than the horizon
                stale = (
                    sa.select(events.c.sender_id)
                    .group_by(events.c.sender_id)
                    .having(sa.func.max(events.c.timestamp) < before.timestamp())
                )
                gone += int(
                    conn.execute(events.delete().where(events.c.sender_id.in_(stale))).rowcount or 0
                )
                conn.commit()
        return gone

    def _audit(
        self, actor: str, action: str, subject: Subject | None, counts: dict[str, int]
    ) -> None:
        with self._transaction("write the privacy audit") as conn:
            conn.execute(
                privacy_audit.insert().values(
                    at=self.clock(),
                    actor=actor[:200],
                    action=action,
                    subject_digest=subject.digest if subject else None,
                    counts=json.dumps(counts, sort_keys=True),
                )
            )

    @contextlib.contextmanager
    def _connect(self, what: str) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error(f"cannot {what}", exc, PrivacyError) from exc

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error(f"cannot {what}", exc, PrivacyError) from exc


@contextlib.contextmanager
def _tracker(url: str, what: str) -> Iterator[sa.Connection | None]:
    """A connection to one of Rasa's tracker stores, None when it has no events table yet."""
    sqlite = url.startswith("sqlite")
    engine = sa.create_engine(url, connect_args={"timeout": 30} if sqlite else {})
    try:
        with engine.connect() as conn:
            yield conn if sa.inspect(conn).has_table("events") else None
    except sa.exc.SQLAlchemyError as exc:
        raise storage_error(f"cannot {what}", exc, PrivacyError) from exc
    finally:
        engine.dispose()


def _events_table(conn: sa.Connection) -> sa.Table:
    return sa.Table("events", sa.MetaData(), autoload_with=conn)


# Columns that hold the id of a row about a conversation: ``handoff_id`` -> handoffs.
_PARENT_COLUMNS = {"handoff_id": "handoffs"}


def _parent_of(table: sa.Table) -> tuple[str, sa.Table] | None:
    """(column, parent table) when ``table``'s rows belong to a conversation's parent row."""
    for column, parent in _PARENT_COLUMNS.items():
        if column in table.c and parent in metadata.tables and table.name != parent:
            return column, metadata.tables[parent]
    return None


def _is_conversation(given: str) -> bool:
    head, sep, rest = given.partition(":")
    return bool(sep and rest and head.isalpha() and head.islower())


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row with JSON-friendly values."""
    return {k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in row.items()}


def retention_of(settings: Any) -> Retention:
    """The retention horizons of ``settings.privacy`` (a :class:`bot.settings.PrivacySettings`)."""
    p = settings.privacy
    return Retention(
        conversations_days=p.conversations_days,
        unanswered_days=p.unanswered_days,
        deliveries_days=p.deliveries_days,
        left_subscribers_days=p.left_subscribers_days,
    )


def tracker_urls(settings: Any) -> Callable[[], list[str]]:
    """Rasa's tracker stores: ``FARO_RASA_TRACKER_URL``, else the embedded SQLite files."""
    url: str | None = settings.privacy.tracker_url
    folder = settings.data_dir / "rasa"

    def find() -> list[str]:
        if url:
            return [url]
        return [f"sqlite:///{f}" for f in sorted(folder.glob("tracker-*.db"))]

    return find


class PurgeWorker:
    """Runs :meth:`PersonalData.purge` now and then (every replica may: deletes are idempotent)."""

    def __init__(self, data: PersonalData, retention: Retention, *, interval_s: float) -> None:
        self._data = data
        self._retention = retention
        self._interval = interval_s
        self._loop = Periodic(
            self._purge, interval_s=self._interval, name="privacy-purge", first_after_interval=True
        )

    async def start(self) -> None:
        """Run in the background every interval until stopped."""
        await self._loop.start()

    async def stop(self) -> None:
        """Stop running."""
        await self._loop.stop()

    async def _purge(self) -> None:
        try:
            await asyncio.to_thread(self._data.purge, self._retention)
        except PrivacyError as exc:
            logger.error("privacy: purge failed (retried next time): %s", exc)
