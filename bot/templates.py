"""Staff-editable message templates (data/templates/*.yml), per language.

File format::

    version: 1
    templates:
      greet:
        en: "Hi! I'm Faro ..."
        es: "¡Hola! Soy Faro ..."

Values use ``{name}`` placeholders filled by :meth:`TemplateStore.render`.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

DEFAULT_LANG = "en"


class TemplateError(ValueError):
    """A template file is invalid, or a template is missing."""


class TemplateStore:
    """Templates keyed by name then language; implements the core's ``Templates`` port."""

    def __init__(self, templates: Mapping[str, Mapping[str, str]]) -> None:
        self._templates = {k: dict(v) for k, v in templates.items()}

    @classmethod
    def from_paths(cls, paths: Iterable[Path]) -> TemplateStore:
        """Load every ``*.yml`` file (or the files themselves) in ``paths``."""
        merged: dict[str, dict[str, str]] = {}
        for path in _yaml_files(paths):
            for key, langs in _parse(path).items():
                if key in merged:
                    raise TemplateError(f"{path}: template {key!r}: defined twice")
                merged[key] = langs
        return cls(merged)

    def replace(self, templates: Mapping[str, Mapping[str, str]]) -> None:
        """Serve ``templates`` from now on (edited live in the console; one swap, no mix)."""
        self._templates = {k: dict(v) for k, v in templates.items()}

    def keys(self) -> list[str]:
        """All template names."""
        return sorted(self._templates)

    def texts(self, key: str) -> dict[str, str]:
        """The raw text of template ``key`` per language (empty if unknown)."""
        return dict(self._templates.get(key, {}))

    def has(self, key: str) -> bool:
        """True when template ``key`` exists."""
        return key in self._templates

    def render(self, key: str, lang: str, **values: Any) -> str:
        """Render ``key`` in ``lang``, falling back to English then any language."""
        langs = self._templates.get(key)
        if not langs:
            raise TemplateError(f"no template named {key!r}")
        text = langs.get(lang) or langs.get(DEFAULT_LANG) or next(iter(langs.values()))
        return string.Formatter().vformat(text, (), _Defaulting(values))


class _Defaulting(dict[str, Any]):
    """Fills unknown placeholders with nothing (and logs) rather than failing a reply."""

    def __missing__(self, key: str) -> str:
        logger.warning("template placeholder {%s} has no value", key)
        return ""


def _yaml_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(p.glob("*.yml")) + sorted(p.glob("*.yaml")))
        elif p.exists():
            files.append(p)
        else:
            raise TemplateError(f"{p}: no such file or folder")
    return files


def _parse(path: Path) -> dict[str, dict[str, str]]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path}: not readable YAML: {_first_line(exc)}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("templates"), dict):
        raise TemplateError(f"{path}: expected a mapping with a 'templates' mapping")
    if doc.get("version", 1) != 1:
        raise TemplateError(f"{path}: unsupported version {doc.get('version')!r}")
    out: dict[str, dict[str, str]] = {}
    for key, langs in doc["templates"].items():
        if not isinstance(langs, dict) or not langs:
            raise TemplateError(f"{path}: template {key!r}: expected languages (en, es, ...)")
        for lang, text in langs.items():
            if not isinstance(text, str) or not text.strip():
                raise TemplateError(f"{path}: template {key!r}: {lang}: empty or not text")
            try:
                fields = [name for _, name, _, _ in string.Formatter().parse(text)]
            except ValueError as exc:
                raise TemplateError(f"{path}: template {key!r}: {lang}: {exc}") from exc
            for name in fields:
                if name is not None and not name.isidentifier():
                    raise TemplateError(
                        f"{path}: template {key!r}: {lang}: placeholder {{{name}}} "
                        "must be a plain name like {limit}"
                    )
        out[str(key)] = {str(k): str(v) for k, v in langs.items()}
    return out


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
