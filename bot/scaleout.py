"""The scale-out topology on one machine (``faro up --scale-out``), for real.

* PostgreSQL: the app database (``FARO_DATABASE_URL``) and Rasa's tracker store
  (``FARO_RASA_TRACKER_URL``, default: the app database's name + ``_rasa``);
  both are created when missing, the app database migrated once before any
  replica starts.
* Redis (``FARO_REDIS_URL``): Rasa's lock store, and pub/sub between app
  replicas (bot/pubsub.py).
* N Rasa replicas (``deploy/endpoints.scale-out.yml``); each app replica
  routes a conversation to one of them by a stable hash of its id, and to the
  next one while that one is down (bot/rasa/client.py).
* M app replicas (``faro serve``), stateless, each with its own data folder as
  if on its own machine, behind HAProxy (round robin, no sticky sessions).
  Rasa calls the action endpoint through the load balancer too.

Everything listens on loopback; the tests start the same thing
(tests/scaleout) with private PostgreSQL and Redis servers.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from bot.runner import RasaProject, RunnerError, stop, wait_healthy
from bot.settings import Settings
from bot.stack import ROOT, free_port

ENDPOINTS = "deploy/endpoints.scale-out.yml"
RASA_LOGGING = "deploy/rasa/logging.scale-out.yml"


@dataclass(frozen=True, kw_only=True)
class Topology:
    """What to start, and where the shared services are."""

    database_url: str
    redis_url: str
    tracker_url: str | None = None  # default: the app database's name + "_rasa"
    app_replicas: int = 2
    rasa_replicas: int = 2
    host: str = "127.0.0.1"
    port: int = 8000  # the load balancer's
    redis_channel: str = "faro:changes"

    @property
    def rasa_tracker_url(self) -> str:
        """Rasa's tracker database (PostgreSQL)."""
        if self.tracker_url:
            return self.tracker_url
        url = make_url(self.database_url)
        return url.set(database=f"{url.database}_rasa").render_as_string(hide_password=False)


def check_topology(topology: Topology) -> None:
    """Fail with what to do when the topology cannot run here."""
    for name, value in (
        ("FARO_DATABASE_URL", topology.database_url),
        ("FARO_RASA_TRACKER_URL", topology.rasa_tracker_url),
    ):
        if make_url(value).get_backend_name() != "postgresql":
            raise RunnerError(
                f"{name}: the scale-out needs PostgreSQL "
                "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/faro)"
            )
    if not topology.redis_url.startswith("redis://"):
        raise RunnerError("FARO_REDIS_URL: the scale-out needs Redis (redis://127.0.0.1:6379/0)")
    haproxy()


def haproxy() -> str:
    """The HAProxy executable, or an error saying how to install it."""
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if not found:
        raise RunnerError(
            "HAProxy is not installed: apt-get install -y haproxy (scripts/setup tries it), "
            "or run the app replicas behind your own load balancer"
        )
    return found


def haproxy_config(*, host: str, port: int, app_ports: list[int]) -> str:
    """Round robin over the app replicas, no stickiness; a replica that stops answering
    is taken out within ~2 s and a request it refused is sent to another one."""
    servers = "\n".join(
        f"    server app{i} 127.0.0.1:{p} check inter 1s fall 2 rise 1"
        for i, p in enumerate(app_ports)
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 90s
    timeout server 90s
    timeout tunnel 1h
    timeout http-request 10s

frontend faro
    bind {host}:{port}
    option forwardfor
    default_backend apps

backend apps
    balance roundrobin
    option httpchk GET /static/widget.js
    http-check expect status 200
{servers}
"""


def prepare_databases(topology: Topology) -> None:
    """Create the app and tracker databases when missing; migrate the app database once."""
    import psycopg

    from bot.db import Database

    for value in (topology.database_url, topology.rasa_tracker_url):
        url = make_url(value)
        admin = url.set(drivername="postgresql", database="postgres")
        conninfo = admin.render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{url.database}"')
    Database.open(topology.database_url).dispose()


@dataclass
class ScaleOut:
    """Handles on a running scale-out; start and stop pieces for fault tests."""

    topology: Topology
    root: Path
    data_dir: Path
    env: dict[str, str]
    project: RasaProject
    model: Path
    app_ports: list[int]
    rasa_ports: list[int]
    apps: list[subprocess.Popen[bytes] | None] = field(default_factory=list)
    rasas: list[subprocess.Popen[bytes] | None] = field(default_factory=list)
    lb: subprocess.Popen[bytes] | None = None
    action_url: str | None = None  # default: the load balancer's /webhook

    @property
    def url(self) -> str:
        """The load balancer: what customers and Rasa's action calls use."""
        shown = "127.0.0.1" if self.topology.host in ("0.0.0.0", "::") else self.topology.host
        return f"http://{shown}:{self.topology.port}"

    @property
    def app_urls(self) -> list[str]:
        """Each app replica, bypassing the load balancer."""
        return [f"http://127.0.0.1:{p}" for p in self.app_ports]

    @property
    def rasa_urls(self) -> list[str]:
        """Each Rasa replica."""
        return [f"http://127.0.0.1:{p}" for p in self.rasa_ports]

    # -- pieces -----------------------------------------------------------------

    def rasa_env(self) -> dict[str, str]:
        """Where Rasa's tracker store (PostgreSQL) and lock store (Redis) are."""
        tracker = make_url(self.topology.rasa_tracker_url)
        redis = httpx.URL(self.topology.redis_url)
        db = redis.path.strip("/") or "0"
        return {
            "FARO_RASA_PG_HOST": tracker.host or "127.0.0.1",
            "FARO_RASA_PG_PORT": str(tracker.port or 5432),
            "FARO_RASA_PG_DB": tracker.database or "",
            "FARO_RASA_PG_USER": tracker.username or "",
            "FARO_RASA_PG_PASSWORD": tracker.password and str(tracker.password) or "",
            "FARO_RASA_REDIS_HOST": redis.host or "127.0.0.1",
            "FARO_RASA_REDIS_PORT": str(redis.port or 6379),
            "FARO_RASA_REDIS_DB": db,
            # a lock left by a replica that died mid-turn holds its conversation this
            # long (Rasa's default: 60 s); turns take well under it
            "TICKET_LOCK_LIFETIME": self.env.get("TICKET_LOCK_LIFETIME") or "15",
        }

    def start_rasa(self, i: int, *, wait: bool = True) -> None:
        """Start (or restart) Rasa replica ``i`` on its port."""
        proc = self.project.start_rasa(
            model=self.model,
            port=self.rasa_ports[i],
            action_url=self.action_url or self.url + "/webhook",
            action_token=self.env["FARO_ACTION_TOKEN"],
            replica=i,
            extra_env=self.rasa_env(),
            extra_args=("--logging-config-file", str(self.root / RASA_LOGGING)),
        )
        self.rasas[i] = proc
        if wait:
            self.wait_rasa(i)

    def wait_rasa(self, i: int, *, timeout_s: float = 300) -> None:
        """Wait until Rasa replica ``i`` answers."""
        log = self.project.logs_dir / f"rasa-{i}.log"
        wait_healthy(self.rasa_urls[i] + "/", timeout_s=timeout_s, proc=self.rasas[i], log=log)

    def kill_rasa(self, i: int, sig: int = signal.SIGKILL) -> None:
        """Kill Rasa replica ``i`` (SIGKILL: as if its machine died)."""
        proc = self.rasas[i]
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)
        self.rasas[i] = None

    def start_app(self, i: int, *, wait: bool = True) -> None:
        """Start (or restart) app replica ``i`` (``faro serve``, its own data folder)."""
        data = self.data_dir / f"app-{i}"
        data.mkdir(parents=True, exist_ok=True)
        env = dict(self.env, FARO_DATA_DIR=str(data), FARO_PORT=str(self.app_ports[i]))
        env["FARO_HOST"] = "127.0.0.1"
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "serve"],
            cwd=self.root,
            env=env,
            stdout=open(self.log_of_app(i), "ab"),  # noqa: SIM115 - the child keeps it
            stderr=subprocess.STDOUT,
        )
        self.apps[i] = proc
        if wait:
            self.wait_app(i)

    def log_of_app(self, i: int) -> Path:
        """App replica ``i``'s log file."""
        return self.data_dir / f"app-{i}.log"

    def wait_app(self, i: int, *, timeout_s: float = 300) -> None:
        """Wait until app replica ``i`` serves (its own page; Rasa may still be starting)."""
        wait_healthy(
            self.app_urls[i] + "/static/widget.js",
            timeout_s=timeout_s,
            proc=self.apps[i],
            log=self.log_of_app(i),
        )

    def kill_app(self, i: int, sig: int = signal.SIGKILL) -> None:
        """Stop app replica ``i``."""
        proc = self.apps[i]
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)
        self.apps[i] = None

    def start_lb(self) -> None:
        """Start HAProxy in the foreground on the topology's port."""
        config = self.data_dir / "haproxy.cfg"
        config.write_text(
            haproxy_config(
                host=self.topology.host, port=self.topology.port, app_ports=self.app_ports
            )
        )
        self.lb = subprocess.Popen(
            [haproxy(), "-db", "-f", str(config)],
            stdout=open(self.data_dir / "haproxy.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        wait_healthy(
            self.url + "/static/widget.js",
            timeout_s=30,
            proc=self.lb,
            log=self.data_dir / "haproxy.log",
        )

    def start(self) -> None:
        """Start everything: Rasa replicas and app replicas together, then the balancer."""
        for i in range(len(self.rasa_ports)):
            self.start_rasa(i, wait=False)
        for i in range(len(self.app_ports)):
            self.start_app(i, wait=False)
        for i in range(len(self.app_ports)):
            self.wait_app(i)
        self.start_lb()
        for i in range(len(self.rasa_ports)):
            self.wait_rasa(i)

    def close(self) -> None:
        """Stop everything this started."""
        procs = [self.lb, *self.apps, *self.rasas]
        for proc in procs:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in procs:
            if proc is not None:
                stop(proc, timeout_s=15)


def scale_out(
    topology: Topology,
    *,
    data_dir: Path,
    root: Path = ROOT,
    base_env: dict[str, str] | None = None,
    models_root: Path | None = None,
    action_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> ScaleOut:
    """Prepare (databases, model, ports) a scale-out; call :meth:`ScaleOut.start` next.

    The shared secrets come from the environment (``FARO_ACTION_TOKEN``,
    ``FARO_SESSION_SECRET``), else are generated for this run: every replica
    gets the same ones.
    """
    check_topology(topology)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ if base_env is None else base_env)
    env.setdefault("FARO_ACTION_TOKEN", secrets.token_urlsafe(24))
    env.setdefault("FARO_SESSION_SECRET", secrets.token_urlsafe(32))
    rasa_ports = [free_port() for _ in range(topology.rasa_replicas)]
    app_ports = [free_port() for _ in range(topology.app_replicas)]
    env.update(
        FARO_PROJECT_DIR=str(root),
        FARO_DATABASE_URL=topology.database_url,
        FARO_RASA_TRACKER_URL=topology.rasa_tracker_url,
        FARO_REDIS_URL=topology.redis_url,
        FARO_REDIS_CHANNEL=topology.redis_channel,
        FARO_RASA_URLS=",".join(f"http://127.0.0.1:{p}" for p in rasa_ports),
        FARO_RASA_ENDPOINTS=ENDPOINTS,
        # HAProxy is the proxy in front: believe its X-Forwarded-For
        FARO_TRUSTED_PROXIES=env.get("FARO_TRUSTED_PROXIES") or "127.0.0.1",
    )
    env.pop("FARO_RASA_URL", None)
    env.update(extra_env or {})
    settings = Settings.from_env(dict(env, FARO_DATA_DIR=str(data_dir)))
    project = RasaProject.from_settings(
        settings, data_dir=data_dir, models_root=models_root or root / ".faro" / "models"
    )
    project.check_rasa()
    prepare_databases(topology)
    model = project.ensure_model()
    return ScaleOut(
        topology=topology,
        root=root,
        data_dir=data_dir,
        env=env,
        project=project,
        model=model,
        app_ports=app_ports,
        rasa_ports=rasa_ports,
        apps=[None] * topology.app_replicas,
        rasas=[None] * topology.rasa_replicas,
        action_url=action_url,
    )


def wait_until_serving(stack: ScaleOut, *, timeout_s: float = 120) -> None:
    """Wait until a chat turn through the load balancer gets Rasa's answer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            response = httpx.get(stack.url + "/health", timeout=5)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RunnerError(f"{stack.url}/health did not turn healthy within {timeout_s:.0f} s")
