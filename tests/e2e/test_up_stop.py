"""`faro up` stops Rasa too when it is told to stop with SIGTERM (systemd, Kubernetes,
`kill`), not only on Ctrl-C: uvicorn re-raises the SIGTERM it handled, which used to end
the process before it stopped its Rasa processes, leaving them running."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from bot.runner import RasaProject
from bot.settings import Settings
from bot.stack import ROOT, free_port


def listening(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.TransportError:
        return False
    return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_faro_up_stops_rasa_when_stopped(tmp_path: Path, sig: signal.Signals) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "FARO_DATA_DIR": str(data), "FARO_EMBEDDING_MODEL": "hashing"}
    # the model the other e2e tests share, so that `faro up` has nothing to train
    shared = RasaProject.from_settings(
        Settings.from_env(env), models_root=ROOT / ".faro" / "models"
    ).ensure_model()
    (data / "models").mkdir(parents=True)
    shutil.copy(shared, data / "models" / shared.name)
    port, rasa_port = free_port(), free_port()
    rasa_url = f"http://127.0.0.1:{rasa_port}/"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "up", "--port", str(port)]
        + ["--rasa-port", str(rasa_port), "--rasa-replicas", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        while not any("Faro is up" in line for line in out):
            assert proc.poll() is None, "".join(out)
            assert time.monotonic() < deadline, "".join(out)
            time.sleep(0.5)
        assert listening(rasa_url)
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 0, "".join(out)
        reader.join(timeout=5)
        assert any("Faro stopped." in line for line in out), "".join(out)
        assert not listening(rasa_url), "Rasa still runs after faro up stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
