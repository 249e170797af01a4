"""The last known status on disk, so a restart serves it at once."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.status.codec import snapshot_from_dict, snapshot_to_dict
from bot.status.errors import StatusError
from bot.status.model import StatusSnapshot
from bot.status.times import parse_time

logger = logging.getLogger(__name__)

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class SavedState:
    """A snapshot and when a source last confirmed it."""

    snapshot: StatusSnapshot
    confirmed_at: datetime | None


class StateStore:
    """A JSON file (e.g. ``.faro/state/status.json``) written atomically."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def load(self) -> SavedState | None:
        """The saved state, or None when there is none or it is unreadable (logged)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("status state %s: cannot read (%s); starting empty", self.path, exc)
            return None
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION:
                raise ValueError("not a version 1 status state")
            snapshot = snapshot_from_dict(doc["snapshot"])
        except (ValueError, KeyError, TypeError, StatusError) as exc:
            logger.warning("status state %s: unreadable (%s); starting empty", self.path, exc)
            return None
        return SavedState(snapshot=snapshot, confirmed_at=parse_time(doc.get("confirmed_at")))

    def save(self, state: SavedState) -> None:
        """Write ``state`` atomically (temporary file, fsync, rename); errors are logged."""
        doc = {
            "version": STATE_VERSION,
            "confirmed_at": state.confirmed_at.isoformat() if state.confirmed_at else None,
            "snapshot": snapshot_to_dict(state.snapshot),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".status-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(doc, out, ensure_ascii=False)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            logger.warning("status state %s: cannot save (%s)", self.path, exc)
