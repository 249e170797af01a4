"""FAQ entries in the app database: the store, its audit trail, import/export codecs."""

from bot.faqdb.codec import entry_from_dict, entry_to_dict
from bot.faqdb.errors import (
    DuplicateEntry,
    EditConflict,
    FaqStoreError,
    InvalidEntry,
    UnknownEntry,
)
from bot.faqdb.model import AuditRecord, ImportPlan, StoredEntry
from bot.faqdb.store import FaqStore

__all__ = [
    "AuditRecord",
    "DuplicateEntry",
    "EditConflict",
    "FaqStore",
    "FaqStoreError",
    "ImportPlan",
    "InvalidEntry",
    "StoredEntry",
    "UnknownEntry",
    "entry_from_dict",
    "entry_to_dict",
]
