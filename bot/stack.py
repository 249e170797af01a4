"""A throwaway Faro stack on loopback: Rasa server(s) + an app process.

Used by the end-to-end tests and ``faro bench``. The Rasa model is trained
once per set of inputs (cached under the project's .faro/models, exactly as
``faro up`` does); everything else (tracker stores, app database, status
state) lives in the given data folder.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.runner import RasaProject, stop, wait_healthy
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """Handles on a running stack."""

    app_url: str
    rasa_urls: list[str]
    data_dir: Path
    project: RasaProject
    model: Path
    action_token: str
    env: dict[str, str]
    rasa_procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    app: subprocess.Popen[bytes] | None = None
    rasa_ports: list[int] = field(default_factory=list)
    app_port: int = 0
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def chat(self, text: str = "", *, session: str | None = None, **extra: Any) -> dict[str, Any]:
        """POST one turn to the web chat endpoint and return the JSON reply."""
        body: dict[str, Any] = {"text": text, **extra}
        if session:
            body["session"] = session
        response = self.client.post(self.app_url + "/api/chat", json=body)
        response.raise_for_status()
        return dict(response.json())

    @property
    def rasa(self) -> subprocess.Popen[bytes]:
        """The first Rasa process."""
        return self.rasa_procs[0]

    def start_rasa(self) -> None:
        """Start (or restart) the Rasa servers on the same ports and tracker stores."""
        self.rasa_procs = [
            self.project.start_rasa(
                model=self.model,
                port=port,
                action_url=f"{self.app_url}/webhook",
                action_token=self.action_token,
                replica=i,
            )
            for i, port in enumerate(self.rasa_ports)
        ]
        for i, (url, proc) in enumerate(zip(self.rasa_urls, self.rasa_procs, strict=True)):
            log = self.project.logs_dir / f"rasa-{i}.log"
            wait_healthy(url + "/", timeout_s=240, proc=proc, log=log)

    def start_app(self) -> None:
        """Start the app process (``faro serve``)."""
        self.app = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve"],
            cwd=self.project.root,
            env=self.env,
            stdout=open(self.data_dir / "app.log", "ab"),  # noqa: SIM115 - child keeps it
            stderr=subprocess.STDOUT,
        )
        wait_healthy(
            self.app_url + "/health", timeout_s=120, proc=self.app, log=self.data_dir / "app.log"
        )

    def close(self) -> None:
        """Stop both processes."""
        self.client.close()
        for proc in (self.app, *self.rasa_procs):
            if proc is not None:
                stop(proc)


@contextmanager
def running_stack(
    data_dir: Path,
    *,
    root: Path = ROOT,
    replicas: int = 1,
    extra_env: dict[str, str] | None = None,
    base_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """Start Rasa and the app on free loopback ports; stop them afterwards.

    ``base_env`` replaces the inherited environment (a drill passes a filtered one).
    """
    app_port = free_port()
    rasa_ports = [free_port() for _ in range(replicas)]
    rasa_urls = [f"http://127.0.0.1:{p}" for p in rasa_ports]
    token = secrets.token_urlsafe(16)
    env = dict(os.environ if base_env is None else base_env)
    env.update(
        FARO_PROJECT_DIR=str(root),
        FARO_DATA_DIR=str(data_dir),
        FARO_PORT=str(app_port),
        FARO_RASA_URL=",".join(rasa_urls),
        FARO_ACTION_TOKEN=token,
        FARO_STATUS_POLL_INTERVAL="1",
    )
    env.update(extra_env or {})
    settings = Settings.from_env(env)
    project = RasaProject.from_settings(settings, models_root=root / ".faro" / "models")
    model = project.ensure_model()
    stack = Stack(
        app_url=f"http://127.0.0.1:{app_port}",
        rasa_urls=rasa_urls,
        data_dir=data_dir,
        project=project,
        model=model,
        action_token=token,
        env=env,
        rasa_ports=rasa_ports,
        app_port=app_port,
    )
    try:
        stack.start_rasa()
        stack.start_app()
        yield stack
    finally:
        stack.close()
