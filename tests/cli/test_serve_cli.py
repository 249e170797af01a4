"""`faro serve` / `faro up` refuse to start on a bad FAQ: one clear line, non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_faro(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "FARO_DATA_DIR": str(tmp_path / "data"),
        "FARO_EMBEDDING_MODEL": "hashing",
        "FARO_PORT": "0",
    }


BAD_ENTRY = """\
version: 1
faqs:
  - id: card-payments
    question: {en: "Why are card payments failing?"}
    answer: {en: ""}
"""


@pytest.mark.parametrize("command", ["serve", "up"])
def test_invalid_faq_file_stops_start_with_file_entry_and_reason(
    tmp_path: Path, env: dict[str, str], command: str
) -> None:
    bad = tmp_path / "faq.yml"
    bad.write_text(BAD_ENTRY)
    done = run_faro(command, env={**env, "FARO_FAQ": str(bad)})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ")
    assert str(bad) in lines[-1] and "card-payments" in lines[-1] and "answer" in lines[-1]
    assert "Traceback" not in done.stderr


def test_broken_yaml_stops_start(tmp_path: Path, env: dict[str, str]) -> None:
    bad = tmp_path / "faq.yml"
    bad.write_text("version: 1\nfaqs: [\n  - id: x\n")
    done = run_faro("serve", env={**env, "FARO_FAQ": str(bad)})
    assert done.returncode == 2
    assert str(bad) in done.stderr and "Traceback" not in done.stderr


def test_missing_faq_file_stops_start(tmp_path: Path, env: dict[str, str]) -> None:
    missing = tmp_path / "nope.yml"
    done = run_faro("serve", env={**env, "FARO_FAQ": str(missing)})
    assert done.returncode == 2
    assert str(missing) in done.stderr and "Traceback" not in done.stderr


def test_bad_setting_is_named(env: dict[str, str]) -> None:
    done = run_faro("serve", env={**env, "FARO_PORT": "http"})
    assert done.returncode == 2
    assert "FARO_PORT" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["up", "serve", "train", "bench", "faq", "eval", "status"])
def test_every_command_has_help(command: str) -> None:
    done = run_faro(command, "--help", env={})
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
