"""What the FAQ store returns: stored entries, audit records, import plans, changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from faq_index import FaqEntry


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as stored: its content, edit version, last change and retired flag."""

    entry: FaqEntry
    version: int
    updated_at: datetime
    retired: bool


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited change: who, when, what, and the entry before and after."""

    id: int
    at: datetime
    actor: str
    action: str
    entry_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import changes, by entry id."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        """True when applying the plan changes anything."""
        return bool(self.added or self.changed or self.retired)


@dataclass(frozen=True, slots=True)
class Changes:
    """Entries changed since a revision: to upsert, to remove, and the revision reached."""

    upserts: tuple[FaqEntry, ...]
    removed: tuple[str, ...]
    revision: int
