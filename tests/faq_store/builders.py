"""Builders for FAQ store tests: databases (SQLite file or a PostgreSQL schema), entries."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from bot.faqdb.codec import validate_edit
from faq_index import FaqEntry

# The PostgreSQL server of this machine and CI: trust auth, database "test".
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

SEED_YAML = """\
version: 1
faqs:
  - id: card-payments-failing
    tags: [payments, cards]
    question:
      en: Why are my card payments failing?
      es: ¿Por qué fallan mis pagos con tarjeta?
    paraphrases:
      en: ["card declined", "can't pay with my card", "my card payment was rejected"]
      es: ["me rechazan la tarjeta", "no puedo pagar con mi tarjeta"]
    answer:
      en: Card payments are failing because of the outage at our card processor.
      es: Los pagos con tarjeta fallan por la caída de nuestro procesador de tarjetas.
  - id: when-fixed
    question:
      en: When will the service be back?
      es: ¿Cuándo vuelve el servicio?
    paraphrases:
      en: ["when will it be fixed", "how long until the outage is over", "eta for the fix"]
      es: ["cuándo se arregla", "cuánto falta para que funcione"]
    answer:
      en: We are working on it; see the status page for the latest estimate.
      es: Estamos trabajando en ello; mira la página de estado.
  - id: login-problems
    question:
      en: I cannot log in to the app
    paraphrases:
      en: ["login does not work", "the app will not let me sign in", "password rejected"]
    answer:
      en: Logins fail for some users during the outage; please try again later.
"""


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
