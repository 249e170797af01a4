"""The bare ``rasa init`` bot that ``faro bench --baseline`` compares against."""

from __future__ import annotations

import subprocess

from bot.runner import RasaProject, RunnerError, rasa_env, wait_healthy
from bot.settings import Settings


def start_rasa_init_bot(settings: Settings, *, port: int) -> subprocess.Popen[bytes]:
    """Create (once) and train the `rasa init` project, then serve it on ``port``."""
    project = RasaProject.from_settings(settings)
    project.check_rasa()
    home = settings.data_dir / "bench" / "rasa-init"
    models = home / "models"
    if not any(models.glob("*.tar.gz")) if models.exists() else True:
        home.mkdir(parents=True, exist_ok=True)
        log = home / "init.log"
        with log.open("wb") as out:
            done = subprocess.run(
                [str(project.rasa_bin), "init", "--no-prompt", "--init-dir", str(home)],
                cwd=home, stdout=out, stderr=subprocess.STDOUT, env=rasa_env(),
            )  # fmt: skip
        if done.returncode != 0 or not any(models.glob("*.tar.gz")):
            raise RunnerError(f"`rasa init` failed; see {log}")
    model = max(models.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    log_path = home / "run.log"
    proc = subprocess.Popen(
        [str(project.rasa_bin), "run", "--model", str(model), "--interface", "127.0.0.1",
         "--port", str(port), "--credentials", "credentials.yml"],
        cwd=home, stdout=log_path.open("ab"), stderr=subprocess.STDOUT, env=rasa_env(),
    )  # fmt: skip
    wait_healthy(f"http://127.0.0.1:{port}/", timeout_s=240, proc=proc, log=log_path)
    return proc


__all__ = ["start_rasa_init_bot"]
