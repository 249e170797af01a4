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
   and commits in rollback-journal mode: several fsyncs per turn. Selected
   in endpoints.yml with ``type: faro_rasa_speedups.SQLiteTrackerStore``.
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
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    class SQLiteTrackerStore(SQLTrackerStore):  # type: ignore[misc]
        """Rasa's SQL tracker store on one SQLite file: kept-open connection, WAL.

        WAL with synchronous=NORMAL keeps every committed turn across a crash
        or restart of Rasa; only an OS crash or power cut can lose the last
        turns.
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

    return SQLiteTrackerStore


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
