"""Running Rasa next to the app: train when inputs changed, start, wait, stop.

Used by ``faro up``/``faro train`` and by the end-to-end tests, so both run
Rasa the same way.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from bot.settings import Settings

logger = logging.getLogger(__name__)

RASA_DATA = ("data/nlu", "data/rules", "data/stories")
RASA_INPUTS = ("config.yml", "domain.yml", *RASA_DATA)


class RunnerError(Exception):
    """Rasa could not be set up, trained or started; the message says what to do."""


@dataclass(frozen=True, kw_only=True)
class RasaProject:
    """Where the Rasa project and its generated artifacts live."""

    root: Path
    data_dir: Path
    rasa_bin: Path
    models_root: Path | None = None

    endpoints: str = "endpoints.yml"

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RasaProject:
        """The project the settings describe (``FARO_RASA_BIN``, ``FARO_RASA_ENDPOINTS``)."""
        values: dict[str, Any] = {
            "root": settings.project_dir,
            "data_dir": settings.data_dir,
            "rasa_bin": settings.rasa.rasa_bin,
            "endpoints": settings.rasa.endpoints,
        }
        values.update(overrides)
        return cls(**values)

    @property
    def models_dir(self) -> Path:
        """Trained models, named by the hash of their inputs."""
        return self.models_root or self.data_dir / "models"

    @property
    def logs_dir(self) -> Path:
        """Logs of Rasa processes and trainings."""
        return self.data_dir / "logs"

    def inputs_hash(self) -> str:
        """Hash of everything training reads; a change means retraining."""
        digest = hashlib.sha256()
        for path in _input_files(self.root):
            digest.update(str(path.relative_to(self.root)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        return digest.hexdigest()[:16]

    def model_path(self) -> Path:
        """Where the model for the current inputs is (or will be)."""
        return self.models_dir / f"faro-{self.inputs_hash()}.tar.gz"

    def check_rasa(self) -> None:
        """Fail with what to do when the Rasa environment is missing."""
        if not self.rasa_bin.exists():
            raise RunnerError(
                f"Rasa is not installed at {self.rasa_bin}: run scripts/setup "
                "(or set FARO_RASA_BIN to a rasa==3.6.21 executable)"
            )

    def ensure_model(self, *, on_tick: Callable[[float], None] | None = None) -> Path:
        """Train the model if its inputs changed; return its path."""
        model = self.model_path()
        if model.exists():
            return model
        self.check_rasa()
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.logs_dir / "train.log"
        cmd = [
            str(self.rasa_bin), "train",
            "--config", "config.yml", "--domain", "domain.yml",
            "--data", *RASA_DATA,
            "--out", str(self.models_dir),
            "--fixed-model-name", model.name.removesuffix(".tar.gz"),
        ]  # fmt: skip
        started = time.monotonic()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                cmd, cwd=self.root, stdout=log, stderr=subprocess.STDOUT, env=rasa_env()
            )
            while proc.poll() is None:
                if on_tick:
                    on_tick(time.monotonic() - started)
                time.sleep(0.5)
        if proc.returncode != 0 or not model.exists():
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
            raise RunnerError(f"rasa train failed ({tail[0][:200]}); full log: {log_path}")
        return model

    def start_rasa(
        self,
        *,
        model: Path,
        port: int,
        action_url: str,
        action_token: str,
        replica: int = 0,
        extra_env: dict[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> subprocess.Popen[bytes]:
        """Start one Rasa server on 127.0.0.1:``port`` (REST channel; its HTTP API behind the
        action token, for pausing conversations a person has)."""
        self.check_rasa()
        (self.data_dir / "rasa").mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        tracker_db = self.data_dir / "rasa" / f"tracker-{replica}.db"
        env = rasa_env()
        env.update(
            FARO_ACTION_URL=action_url,
            FARO_ACTION_TOKEN=action_token,
            FARO_RASA_TRACKER_DB=str(tracker_db),
        )
        env.update(extra_env or {})  # the scale-out's tracker and lock stores (bot/scaleout.py)
        cmd = [
            str(self.rasa_bin), "run",
            "--model", str(model),
            "--interface", "127.0.0.1", "--port", str(port),
            "--endpoints", self.endpoints, "--credentials", "credentials.yml",
            "--enable-api", f"--auth-token={action_token}",  # may start with "-"
            *extra_args,
        ]  # fmt: skip
        log = (self.logs_dir / f"rasa-{replica}.log").open("ab")
        return subprocess.Popen(cmd, cwd=self.root, stdout=log, stderr=subprocess.STDOUT, env=env)


def default_replicas(configured: int | None = None) -> int:
    """Rasa processes ``faro up`` starts: ``configured`` (FARO_RASA_REPLICAS), else one per
    core up to two.

    Rasa processes one message at a time per process (Python, one event
    loop); a second process uses the second core. Conversations are routed
    to a fixed replica by their id, so in-memory locks stay correct.
    """
    if configured is not None:
        return configured
    return max(1, min(2, os.cpu_count() or 1))


def rasa_env() -> dict[str, str]:
    """Environment for Rasa subprocesses: quiet, offline, one thread per op."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONWARNINGS="ignore",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_NUM_INTRAOP_THREADS=env.get("TF_NUM_INTRAOP_THREADS", "1"),
        TF_NUM_INTEROP_THREADS=env.get("TF_NUM_INTEROP_THREADS", "1"),
        OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"),
    )
    # The app's venv must not leak into Rasa's interpreter.
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    return env


def wait_healthy(
    url: str,
    *,
    timeout_s: float,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Wait until ``url`` answers 200; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            where = f"; see {log}" if log else ""
            raise RunnerError(f"process for {url} exited with code {proc.returncode}{where}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RunnerError(f"{url} did not become healthy within {timeout_s:.0f} s")


def stop(proc: subprocess.Popen[bytes], *, timeout_s: float = 10.0) -> None:
    """Terminate a child process, killing it if it does not exit in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _input_files(root: Path) -> Iterator[Path]:
    for name in RASA_INPUTS:
        path = root / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml")
            )
