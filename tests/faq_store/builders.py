"""Builders for FAQ store tests: databases (SQLite file or a PostgreSQL schema), entries."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from bot.faqdb.codec import validate_edit
from faq_index import FaqEntry
from tests.helpers.faq_builders import OUTAGE_FAQ_YAML

# The PostgreSQL server of this machine and CI: trust auth, database "test".
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# The outage FAQ of the index tests without its last entry (refund-outage).
SEED_YAML = OUTAGE_FAQ_YAML.split("  - id: refund-outage", 1)[0]


def write_seed(folder: Path) -> Path:
    """Write the seed FAQ file into ``folder``; returns its path."""
    path = folder / "seed.yml"
    path.write_text(SEED_YAML, encoding="utf-8")
    return path


def sqlite_url(folder: Path) -> str:
    """A fresh SQLite database file in ``folder``."""
    return f"sqlite:///{folder / 'faro.db'}"


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL on a fresh PostgreSQL schema, dropped afterwards."""
    schema = f"faro_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def mortgage(answer: str = "Mortgage applications are paused during the outage.") -> FaqEntry:
    """A new entry, not in the seed."""
    return validate_edit(
        {
            "id": "mortgage-applications",
            "tags": ["loans"],
            "question": {
                "en": "Can I apply for a mortgage now?",
                "es": "¿Puedo pedir una hipoteca?",
            },
            "paraphrases": {"en": ["mortgage application", "apply for a home loan"]},
            "answer": {"en": answer, "es": "Las solicitudes de hipoteca están en pausa."},
        }
    )
