"""Why an FAQ change was refused: one small tree; messages are one clear sentence."""

from __future__ import annotations


class FaqStoreError(Exception):
    """Base class of every refused FAQ change (database failures are ``StoreError``)."""


class InvalidEntry(FaqStoreError):
    """The entry breaks the FAQ contract (empty answer, bad id, ...)."""


class DuplicateEntry(FaqStoreError):
    """An entry with this id already exists."""


class UnknownEntry(FaqStoreError):
    """No entry has this id."""


class EditConflict(FaqStoreError):
    """The entry changed since the editor loaded it."""
