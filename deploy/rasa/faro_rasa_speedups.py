"""Faro's speed-ups for Rasa 3.6, installed into the Rasa environment by scripts/setup.

1. Rasa validates every reply of the action server with
   ``jsonschema.validate(result, schema)``, and ``jsonschema.validate`` first
   checks the *schema* against its meta-schema, on every call. Rasa's schema
   never changes, so that check is repeated work: measured here it was the
   largest single cost of a custom-action turn inside Rasa (bench/README.md).
   Importing this module makes ``jsonschema.validate`` check each distinct
   schema once and reuse the validator; what is validated, and the errors
   raised, are unchanged.
2. :class:`SQLiteTrackerStore`, Rasa's SQL tracker store on SQLite with one
   kept-open connection in WAL mode. Rasa's own opens and closes a SQLite
   connection for every query (SQLAlchemy 1.4 gives file databases no pool)
   and commits in rollback-journal mode: several fsyncs per turn. Retrieve
   and save run Rasa's queries as plain SQL (no ORM session per call); the
   table and its rows are Rasa's. Selected in endpoints.yml with
   ``type: faro_rasa_speedups.SQLiteTrackerStore``.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

_MAX_SCHEMAS = 256
_validators: dict[str, Any] = {}
_original_validate = jsonschema.validate


def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    """``jsonschema.validate`` with the schema checked once per distinct schema."""
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        _original_validate(instance, schema, cls, *args, **kwargs)
        return
    validator = _validators.get(key)
    if validator is None:
        validator_cls = cls or validator_for(schema)
        validator_cls.check_schema(schema)
        validator = validator_cls(schema, *args, **kwargs)
        if len(_validators) < _MAX_SCHEMAS:
            _validators[key] = validator
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


jsonschema.validate = validate


def __getattr__(name: str) -> Any:
    """Build ``SQLiteTrackerStore`` on first use (PEP 562).

    This module is imported at every interpreter start of the Rasa
    environment; Rasa itself is imported only when Rasa asks for the store.
    """
    if name != "SQLiteTrackerStore":
        raise AttributeError(name)
    store = _build_store_class()
    globals()[name] = store
    return store


def _build_store_class() -> Any:
    import itertools
    import sqlite3

    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import INTENT_NAME_KEY
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    session_started = SessionStarted.type_name

    class SQLiteTrackerStore(SQLTrackerStore):  # type: ignore[misc]
        """Rasa's SQL tracker store on one SQLite file: kept-open connection, WAL.

        The table and what is stored are Rasa's own (``SQLTrackerStore``);
        retrieve and save, the two calls of every turn, run their queries
        directly on one kept-open sqlite3 connection instead of through the
        ORM (a session, a compiled query and a count per call: ~40% of
        Rasa's CPU per turn, measured). WAL with synchronous=NORMAL keeps
        every committed turn across a crash or restart of Rasa; only an OS
        crash or power cut can lose the last turns.
        """

        def __init__(self, domain: Any = None, db: str = "rasa.db", **kwargs: Any) -> None:
            for ignored in ("dialect", "host"):
                kwargs.pop(ignored, None)
            super().__init__(domain=domain, dialect="sqlite", db=db, **kwargs)
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url,
                poolclass=sa.pool.StaticPool,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            event.listen(self.engine, "connect", _pragmas)
            self.sessionmaker = sessionmaker(bind=self.engine)
            self._db: sqlite3.Connection | None = None
            if url.database and url.database != ":memory:":
                self._db = sqlite3.connect(
                    url.database, timeout=30, check_same_thread=False, isolation_level=None
                )
                _pragmas(self._db, None)

        async def _retrieve(
            self, sender_id: str, fetch_events_from_all_sessions: bool
        ) -> DialogueStateTracker | None:
            """The tracker of ``sender_id`` (its latest session unless all are asked for)."""
            if self._db is None:
                return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
            if fetch_events_from_all_sessions:
                rows = self._db.execute(
                    "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,)
                ).fetchall()
            else:
                rows = self._session_rows(sender_id, "data")
            events = [json.loads(data) for (data,) in rows]
            if self.domain and events:
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            return None

        async def save(self, tracker: DialogueStateTracker) -> None:
            """Append the tracker's events that are not stored yet, in one transaction."""
            if self._db is None:
                await super().save(tracker)
                return
            await self.stream_events(tracker)
            sender_id = tracker.sender_id
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                ((stored,),) = self._session_rows(sender_id, "count(*)")
                rows = []
                for e in itertools.islice(tracker.events, stored, len(tracker.events)):
                    data = e.as_dict()
                    intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
                    rows.append(
                        (
                            sender_id,
                            e.type_name,
                            data.get("timestamp"),
                            intent,
                            data.get("name"),
                            json.dumps(data),
                        )
                    )
                db.executemany(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name,"
                    " action_name, data) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        def _session_rows(self, sender_id: str, columns: str) -> list[Any]:
            """``columns`` of the events of the latest session, in order (Rasa's query)."""
            assert self._db is not None
            ((start,),) = self._db.execute(
                "SELECT max(timestamp) FROM events WHERE sender_id = ? AND type_name = ?",
                (sender_id, session_started),
            ).fetchall()
            if start is None:
                query = f"SELECT {columns} FROM events WHERE sender_id = ? ORDER BY id"
                return self._db.execute(query, (sender_id,)).fetchall()
            query = (
                f"SELECT {columns} FROM events WHERE sender_id = ? AND timestamp >= ? ORDER BY id"
            )
            return self._db.execute(query, (sender_id, start)).fetchall()

    return SQLiteTrackerStore


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
