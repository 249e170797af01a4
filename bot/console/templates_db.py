"""Message templates kept in the app database: edited in the console, versioned, live.

Every save is a new row of ``template_versions`` (the key, its text per
language, who, when, what it was: seed, edit or a rollback to an earlier row).
The newest row of a key is the text in service; the largest row id is the
revision every replica polls (:class:`TemplateReloader`), as FAQ edits are. On
a start, keys the database does not have yet are seeded from data/templates/
(the first start seeds them all); ``faro templates export`` writes the texts in
service back to YAML files named as the ones they came from.

An edit is refused with a message naming the problem when a text is empty, its
braces do not parse, or it uses a placeholder the template does not have (the
ones its files use, plus the documented ones of its family, e.g. ``status.*``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import yaml

from bot.db import StorageError, as_utc, metadata, storage_error
from bot.periodic import Periodic
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)

_tz = sa.DateTime(timezone=True)
MAX_CHARS = 4000

template_versions = sa.Table(
    "template_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("texts", sa.Text, nullable=False),  # JSON {lang: text}
    sa.Column("source", sa.String(200), nullable=False),  # the YAML file it exports to
    sa.Column("action", sa.String(40), nullable=False),  # seed | edit | rollback:<id>
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", _tz, nullable=False),
    sa.Index("ix_template_versions_key", "key", "id"),
)

# Placeholders each family documents (data/templates/*.yml headers), beyond the ones
# its texts already use.
FAMILY_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "status": frozenset(
        "as_of name component components since resolved start end update_time eta_time "
        "due update eta text link age".split()
    ),
    "broadcast": frozenset("name update update_time text states component components".split()),
}
# What a preview fills the placeholders with.
SAMPLE_VALUES: dict[str, str] = {
    "as_of": "14:05 UTC",
    "name": "Card payments delayed",
    "component": "Card payments",
    "components": "Card payments, Transfers",
    "since": "13:40 UTC",
    "resolved": "15:10 UTC",
    "start": "02:00 UTC",
    "end": "04:00 UTC",
    "update_time": "14:02 UTC",
    "eta_time": "16:00 UTC",
    "due": "14:35 UTC",
    "update": '"We have identified the cause and are deploying a fix."',
    "eta": '"We expect a fix by 16:00 UTC."',
    "text": '"Payments may be declined."',
    "link": "https://status.example.com/incidents/abc",
    "age": "6 minutes",
    "states": "Card payments: partial outage.",
    "limit": "1000",
}


class TemplateRefused(ValueError):
    """An edit that cannot be saved; the message says why, naming the placeholder."""


class TemplateDbError(StorageError):
    """The templates could not be read or written."""


@dataclass(frozen=True, slots=True)
class TemplateVersion:
    """One saved version of a template."""

    id: int
    key: str
    texts: dict[str, str]
    source: str
    action: str
    actor: str
    at: datetime


def placeholders(text: str) -> list[str]:
    """The placeholder names ``text`` uses; raises ``TemplateRefused`` on broken braces."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateRefused(
            f"the braces do not match ({exc}); write placeholders like {{name}}, "
            "and {{ for a brace"
        ) from exc
    names: list[str] = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise TemplateRefused(f"placeholder {shown} is not a plain name like {{name}}")
        names.append(name)
    return names


class TemplateDb:
    """The templates in the database, their versions and the allowed placeholders."""

    def __init__(self, engine: sa.Engine, files: TemplateStore, sources: Mapping[str, str]) -> None:
        self._engine = engine
        self._files = files
        self._sources = dict(sources)

    @classmethod
    def from_paths(cls, engine: sa.Engine, paths: Sequence[Path]) -> TemplateDb:
        """Over the template files in ``paths`` (their texts seed, their placeholders allow)."""
        files = TemplateStore.from_paths(paths)
        sources: dict[str, str] = {}
        for path in paths:
            path = Path(path)
            for f in sorted(path.glob("*.yml")) if path.is_dir() else [path]:
                doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
                for key in doc.get("templates", {}):
                    sources[str(key)] = f.name
        return cls(engine, files, sources)

    # -- reading -------------------------------------------------------------

    def revision(self) -> int:
        """The newest version id (0: nothing stored)."""
        with _translated("cannot read the template revision"), self._engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(template_versions.c.id))).scalar() or 0)

    def current(self) -> tuple[dict[str, dict[str, str]], int]:
        """Every template's texts in service, and the revision they are at."""
        newest = (
            sa.select(sa.func.max(template_versions.c.id))
            .group_by(template_versions.c.key)
            .scalar_subquery()
        )
        with _translated("cannot read the templates"), self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    template_versions.c.id, template_versions.c.key, template_versions.c.texts
                ).where(template_versions.c.id.in_(newest))
            ).all()
        texts = {r.key: json.loads(r.texts) for r in rows}
        return texts, max((r.id for r in rows), default=0)

    def history(self, key: str) -> list[TemplateVersion]:
        """The versions of ``key``, newest first."""
        with _translated("cannot read a template's history"), self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(template_versions)
                .where(template_versions.c.key == key)
                .order_by(template_versions.c.id.desc())
            ).all()
        return [_version(r) for r in rows]

    def allowed(self, key: str) -> frozenset[str]:
        """The placeholders ``key`` may use."""
        used = {n for text in self._files.texts(key).values() for n in placeholders(text)}
        return frozenset(used) | FAMILY_PLACEHOLDERS.get(key.split(".", 1)[0], frozenset())

    def file_texts(self) -> dict[str, dict[str, str]]:
        """The texts of the files (served for keys the database does not have)."""
        return {k: self._files.texts(k) for k in self._files.keys()}  # noqa: SIM118

    def known(self, key: str) -> bool:
        """Whether ``key`` is a template of the files (only those are edited)."""
        return self._files.has(key)

    # -- writing -------------------------------------------------------------

    def seed(self) -> int:
        """Store the file texts of every key the database does not have; how many."""
        with _translated("cannot seed the templates"), self._engine.begin() as conn:
            have = set(conn.execute(sa.select(template_versions.c.key).distinct()).scalars())
            missing = [k for k in self._files.keys() if k not in have]  # noqa: SIM118
            now = datetime.now(UTC)
            if missing:
                conn.execute(
                    template_versions.insert(),
                    [
                        {
                            "key": k,
                            "texts": json.dumps(self._files.texts(k), ensure_ascii=False),
                            "source": self._sources.get(k, "templates.yml"),
                            "action": "seed",
                            "actor": "faro:seed",
                            "at": now,
                        }
                        for k in missing
                    ],
                )
        if missing:
            logger.info("templates: %d seeded from the files into the database", len(missing))
        return len(missing)

    def check(self, key: str, texts: Mapping[str, str]) -> dict[str, str]:
        """The cleaned texts of an edit, or ``TemplateRefused`` saying what is wrong."""
        if not self.known(key):
            raise TemplateRefused(f"there is no template named {key!r}")
        allowed = self.allowed(key)
        clean: dict[str, str] = {}
        for lang, raw in texts.items():
            text = raw.replace("\r\n", "\n").strip()
            if not text:
                raise TemplateRefused(f"{lang}: the text is empty")
            if len(text) > MAX_CHARS:
                raise TemplateRefused(f"{lang}: the text is longer than {MAX_CHARS} characters")
            try:
                names = placeholders(text)
            except TemplateRefused as exc:
                raise TemplateRefused(f"{lang}: {exc}") from exc
            for name in names:
                if name not in allowed:
                    can = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
                    raise TemplateRefused(
                        f"{lang}: {{{name}}} is not a placeholder of this template "
                        f"(it can use: {can})"
                    )
            clean[lang] = text
        return clean

    def save(
        self, key: str, texts: Mapping[str, str], *, actor: str, expected: int | None = None
    ) -> int:
        """Store a new version of ``key`` (checked); its id. ``expected``: the version edited."""
        clean = self.check(key, texts)
        with _translated("cannot save a template"), self._engine.begin() as conn:
            newest = _newest(conn, key)
            if expected is not None and newest is not None and newest.id != expected:
                raise TemplateRefused(
                    f"someone saved this template meanwhile (version {newest.id}); "
                    "reload the page and edit again"
                )
            return _insert(conn, key, clean, newest, action="edit", actor=actor)

    def rollback(self, key: str, version_id: int, *, actor: str) -> int:
        """Put an earlier version of ``key`` back in service (as a new version); its id."""
        with _translated("cannot roll a template back"), self._engine.begin() as conn:
            row = conn.execute(
                sa.select(template_versions)
                .where(template_versions.c.id == version_id)
                .where(template_versions.c.key == key)
            ).first()
            if row is None:
                raise TemplateRefused(f"template {key!r} has no version {version_id}")
            texts = json.loads(row.texts)
            return _insert(
                conn, key, texts, _newest(conn, key), action=f"rollback:{version_id}", actor=actor
            )

    def export(self, folder: Path) -> list[Path]:
        """Write the texts in service as YAML files (named as their sources) in ``folder``."""
        texts, _ = self.current()
        by_file: dict[str, dict[str, dict[str, str]]] = {}
        for key in sorted(texts):
            by_file.setdefault(self._sources.get(key, "templates.yml"), {})[key] = texts[key]
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, templates in sorted(by_file.items()):
            path = folder / name
            body = yaml.safe_dump(
                {"version": 1, "templates": templates},
                allow_unicode=True,
                sort_keys=False,
                width=1000,
            )
            path.write_text(
                "# Exported from the console's templates (faro templates export).\n" + body,
                encoding="utf-8",
            )
            written.append(path)
        return written


class TemplateReloader:
    """Polls the templates' revision and serves the new texts (a ``Background`` task)."""

    def __init__(
        self, db: TemplateDb, templates: TemplateStore, *, interval_s: float = 1.0
    ) -> None:
        self._db = db
        self._templates = templates
        self._interval_s = interval_s
        self._revision = -1
        self._loop = Periodic(
            self._step, interval_s=interval_s, name="template-reloader", first_after_interval=True
        )

    def refresh(self) -> bool:
        """Serve the database's texts if they changed; True when they did."""
        if self._db.revision() == self._revision:
            return False
        texts, revision = self._db.current()
        merged = {**self._db.file_texts(), **texts}
        self._templates.replace(merged)
        self._revision = revision
        logger.info("templates at revision %d", revision)
        return True

    async def start(self) -> None:
        """Start polling."""
        await self._loop.start()

    async def stop(self) -> None:
        """Stop polling."""
        await self._loop.stop()

    async def _step(self) -> None:
        # a failed read keeps the texts in use; Periodic logs it and retries next tick
        await asyncio.to_thread(self.refresh)


def _newest(conn: sa.Connection, key: str) -> TemplateVersion | None:
    row = conn.execute(
        sa.select(template_versions)
        .where(template_versions.c.key == key)
        .order_by(template_versions.c.id.desc())
        .limit(1)
    ).first()
    return _version(row) if row is not None else None


def _insert(
    conn: sa.Connection,
    key: str,
    texts: Mapping[str, str],
    newest: TemplateVersion | None,
    *,
    action: str,
    actor: str,
) -> int:
    merged = {**(newest.texts if newest else {}), **texts}
    result = conn.execute(
        template_versions.insert().values(
            key=key,
            texts=json.dumps(merged, ensure_ascii=False),
            source=newest.source if newest else "templates.yml",
            action=action,
            actor=actor[:200],
            at=datetime.now(UTC),
        )
    )
    version = int(result.inserted_primary_key[0])  # type: ignore[index]
    logger.info("template %s: version %d (%s) by %s", key, version, action, actor)
    return version


def _version(row: sa.Row[tuple[object, ...]]) -> TemplateVersion:
    m = row._mapping
    return TemplateVersion(
        id=int(m["id"]),
        key=str(m["key"]),
        texts=json.loads(str(m["texts"])),
        source=str(m["source"]),
        action=str(m["action"]),
        actor=str(m["actor"]),
        at=as_utc(m["at"]),
    )


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise storage_error(what, exc, TemplateDbError) from exc
