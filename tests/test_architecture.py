"""The rooms and doors of docs/architecture.md, checked on the source itself.

The import contracts live in pyproject.toml (``[tool.importlinter]``) and run
here and in ``scripts/check``; the rest are rules import-linter cannot see.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "actions", "faq_index")
SETTINGS = ROOT / "bot" / "settings.py"


def sources() -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(), filename=str(path))


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def environment_uses(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Reads and writes of the process environment (copying it whole is allowed)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_os_environ(node.value):
            yield node.lineno, f"os.environ.{node.attr}"
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            yield node.lineno, "os.environ[...]"
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in ("getenv", "putenv", "unsetenv")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            yield node.lineno, f"os.{node.attr}"


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "broken" not in done.stdout.lower() or " 0 broken" in done.stdout.lower()


def test_only_the_settings_read_the_environment() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path, tree in sources()
        if path != SETTINGS
        for line, what in environment_uses(tree)
    ]
    assert found == []


def test_the_checker_sees_environment_reads() -> None:
    # the rule above would be vacuous if the checker missed the usual spellings
    tree = ast.parse(
        "import os\nos.environ.get('A')\nos.environ['B']\nos.getenv('C')\n"
        "os.environ.setdefault('D', '1')\nenv = dict(os.environ)\n"
    )
    assert sorted(environment_uses(tree)) == [
        (2, "os.environ.get"),
        (3, "os.environ[...]"),
        (4, "os.getenv"),
        (5, "os.environ.setdefault"),
    ]


def test_no_module_is_loaded_from_an_import_string() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in sources()
        for node in ast.walk(tree)
        if (isinstance(node, ast.Import) and any(a.name == "importlib" for a in node.names))
        or (isinstance(node, ast.ImportFrom) and node.module == "importlib")
        or (isinstance(node, ast.Name) and node.id == "__import__")
    ]
    assert found == []
