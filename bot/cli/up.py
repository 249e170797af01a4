"""``faro up`` (Rasa + app) and ``faro serve`` (the app alone)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import click

from bot.cli.errors import UserError
from bot.cli.serving import build, load_settings, run_uvicorn, spinner


@click.command()
@click.option("--host", default=None, help="Interface for the app [FARO_HOST, 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port of the app [FARO_PORT, 8000].")
@click.option(
    "--rasa-port",
    type=int,
    default=5005,
    show_default=True,
    help="Port of the first Rasa replica (loopback only).",
)
@click.option(
    "--rasa-replicas",
    type=click.IntRange(1, 16),
    default=None,
    help="Rasa processes, conversations routed by id [FARO_RASA_REPLICAS; 2 if 2+ cores].",
)
@click.option(
    "--scale-out",
    is_flag=True,
    help="PostgreSQL + Redis, N Rasa and M app replicas behind HAProxy (docs/scale-out.md).",
)
@click.option(
    "--app-replicas",
    type=click.IntRange(1, 32),
    default=2,
    show_default=True,
    help="With --scale-out: app processes behind the load balancer.",
)
def up(
    host: str | None,
    port: int | None,
    rasa_port: int,
    rasa_replicas: int | None,
    scale_out: bool,
    app_replicas: int,
) -> None:
    """Train Rasa if its inputs changed, start Rasa and the app, stop both on Ctrl-C."""
    if scale_out:
        _up_scale_out(host, port, rasa_replicas or 2, app_replicas)
        return
    from bot.app import create_app
    from bot.runner import RasaProject, RunnerError, default_replicas, stop, wait_healthy

    settings = load_settings(host=host, port=port)
    replicas = rasa_replicas or default_replicas(settings.rasa.replicas)
    urls = tuple(f"http://127.0.0.1:{rasa_port + i}" for i in range(replicas))
    settings = load_settings(host=host, port=port, rasa_urls=urls)
    project = RasaProject.from_settings(settings)
    try:
        project.check_rasa()
        services = build(settings)
        with spinner("Training the Rasa model (only when its inputs changed)") as tick:
            model = project.ensure_model(on_tick=tick)
    except RunnerError as exc:
        raise UserError(str(exc)) from None
    action_url = f"http://127.0.0.1:{settings.server.port}/webhook"
    procs = [
        project.start_rasa(
            model=model, port=rasa_port + i, action_url=action_url,
            action_token=settings.rasa.action_token, replica=i,
        )
        for i in range(replicas)
    ]  # fmt: skip
    app = create_app(services)
    failed: list[str] = []

    def announce() -> None:
        try:
            for i, (url, proc) in enumerate(zip(urls, procs, strict=True)):
                wait_healthy(
                    url + "/", timeout_s=180, proc=proc, log=project.logs_dir / f"rasa-{i}.log"
                )
        except RunnerError as exc:
            failed.append(str(exc))
            os.kill(os.getpid(), 2)
            return
        shown = "127.0.0.1" if settings.server.host in ("0.0.0.0", "::") else settings.server.host
        click.echo(f"Faro is up: chat at http://{shown}:{settings.server.port}/  (Ctrl-C stops)")
        click.echo(f"  health: http://{shown}:{settings.server.port}/health")
        click.echo(f"  staff console: http://{shown}:{settings.server.port}/admin")
        click.echo(f"  Rasa:   {', '.join(urls)} (loopback only; logs in {project.logs_dir})")

    click.echo("Starting Rasa and the app...", err=True)
    # uvicorn stops gracefully on SIGTERM, then raises it again once it has restored the
    # handler it found: make that one a Ctrl-C, so Rasa is stopped too (not orphaned)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        run_uvicorn(
            app,
            host=settings.server.host,
            port=settings.server.port,
            on_started=lambda: threading.Thread(target=announce, daemon=True).start(),
        )
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: a normal stop
        pass
    finally:
        for proc in procs:
            stop(proc)
    if failed:
        raise UserError(failed[0])
    click.echo("Faro stopped.", err=True)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _up_scale_out(host: str | None, port: int | None, rasa_replicas: int, apps: int) -> None:
    """``faro up --scale-out``: the topology of bot/scaleout.py until Ctrl-C."""

    from pathlib import Path

    from bot.runner import RunnerError
    from bot.scaleout import ScaleOut, Topology, scale_out, wait_until_serving

    env = os.environ
    topology = Topology(
        database_url=env.get("FARO_DATABASE_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/faro",
        tracker_url=env.get("FARO_RASA_TRACKER_URL") or None,
        redis_url=env.get("FARO_REDIS_URL") or "redis://127.0.0.1:6379/0",
        redis_channel=env.get("FARO_REDIS_CHANNEL") or "faro:changes",
        app_replicas=apps,
        rasa_replicas=rasa_replicas,
        host=host or env.get("FARO_HOST") or "127.0.0.1",
        port=port or int(env.get("FARO_PORT") or 8000),
    )
    data_dir = Path(env.get("FARO_DATA_DIR") or ".faro").resolve() / "scale-out"
    stack: ScaleOut | None = None
    # SIGTERM stops it like Ctrl-C does
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with spinner("Preparing PostgreSQL, Redis and the Rasa model"):
            stack = scale_out(topology, data_dir=data_dir)
        with spinner(f"Starting {rasa_replicas} Rasa and {apps} app replicas, and HAProxy"):
            stack.start()
            wait_until_serving(stack)
        click.echo(f"Faro is up (scale-out): chat at {stack.url}/  (Ctrl-C stops)")
        click.echo(f"  app replicas:  {', '.join(stack.app_urls)} behind HAProxy")
        click.echo(f"  Rasa replicas: {', '.join(stack.rasa_urls)}")
        click.echo(f"  logs in {data_dir}")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    except RunnerError as exc:
        raise UserError(str(exc)) from None
    except Exception as exc:  # a database or Redis that cannot be reached, said in one line
        raise UserError(f"scale-out failed to start: {type(exc).__name__}: {exc}") from None
    finally:
        if stack is not None:
            stack.close()
    click.echo("Faro stopped.", err=True)


@click.command()
@click.option("--host", default=None, help="Interface [FARO_HOST, 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [FARO_PORT, 8000].")
def serve(host: str | None, port: int | None) -> None:
    """Run the app alone (Rasa runs elsewhere, at FARO_RASA_URL)."""
    from bot.app import create_app

    settings = load_settings(host=host, port=port)
    services = build(settings)
    app = create_app(services)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn stopped cleanly
        run_uvicorn(
            app,
            host=settings.server.host,
            port=settings.server.port,
            on_started=lambda: click.echo(
                f"Faro app listening on {settings.server.host}:{settings.server.port}"
            ),
        )


__all__ = ["up", "serve"]
