"""The exceptions ``faq_index`` raises: one small tree for the whole library."""

from __future__ import annotations


class FaqIndexError(Exception):
    """Base class of every error the FAQ index library raises."""


class FaqFileError(FaqIndexError):
    """An FAQ file (or text) is invalid; says which file, which entry and why."""

    def __init__(self, file: str, entry: str | int | None, reason: str) -> None:
        self.file = file
        self.entry = entry
        self.reason = reason
        super().__init__(self._line())

    def _line(self) -> str:
        if self.entry is None:
            return f"{self.file}: {self.reason}"
        label = f"#{self.entry}" if isinstance(self.entry, int) else self.entry
        return f"{self.file}: entry {label}: {self.reason}"

    def __str__(self) -> str:
        return self._line()

    def __reduce__(self) -> tuple[type[FaqFileError], tuple[str, str | int | None, str]]:
        return (type(self), (self.file, self.entry, self.reason))


class EncoderError(FaqIndexError):
    """The embedding model cannot be loaded or used."""


class QueryFileError(FaqIndexError):
    """A labelled query file (JSON lines) for evaluation is invalid."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {reason}")
