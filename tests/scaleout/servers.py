"""A private PostgreSQL and a private Redis on their own loopback ports, which the fault
tests may stop and restart (never the machine's shared servers)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

from bot.stack import free_port


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("PostgreSQL's binaries are missing: apt-get install postgresql")
    return found[-1].parent


class PrivatePostgres:
    """initdb + pg_ctl in a temporary folder; trust authentication on 127.0.0.1 only."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.port = free_port()
        # PostgreSQL refuses to run as root: then it runs as the "postgres" user
        self.user = "postgres" if os.geteuid() == 0 else None
        self.dir = Path(tempfile.mkdtemp(prefix="faro-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync", "--locale=C",
        )  # fmt: skip

    @property
    def url(self) -> str:
        """SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/faro"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            user=self.user,
            cwd=self.dir,
        )

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            # fsync off only spares the disk (the OS is not crashed in the tests); commits are
            # synchronous: a crash stop must not lose what a customer was answered from
            "-c fsync=off "
            "-c max_connections=200"
        )
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options)
        self.wait()

    def stop(self, mode: str = "fast") -> None:
        """Stop (``immediate``: as if it crashed)."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    def wait(self, timeout_s: float = 30) -> None:
        """Wait until it accepts connections."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                    connect_timeout=2,
                ):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        """Stop and remove the data folder."""
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """redis-server without persistence on its own port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start and wait until it answers PING."""
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        while True:
            try:
                client.ping()
                client.close()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Kill it (SIGKILL: nothing is saved, as if it crashed)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
