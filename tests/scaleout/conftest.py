"""One scale-out (2 app replicas behind HAProxy, 2 Rasa replicas, a private PostgreSQL and a
private Redis, a loopback status feed) shared by the topology and fault tests of a session."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.scaleout import ScaleOut, Topology, scale_out, wait_until_serving
from bot.stack import ROOT, free_port
from tests.helpers.status_server import IncidentReplay, StatuspageServer
from tests.scaleout.servers import PrivatePostgres, PrivateRedis
from tests.scaleout.slow_proxy import SlowProxy

pytestmark = pytest.mark.e2e

FEED = ROOT / "tests/status/fixtures/incidents/rgy28jwprr1c.json"
FAQ_POLL_S = 10.0  # the database poll; pub/sub must beat it by far
PUSH_POLL_S = 30.0  # the push hub's fallback poll; pub/sub must beat it by far


@dataclass
class World:
    """The running topology and the servers it uses (which the fault tests break)."""

    stack: ScaleOut
    pg: PrivatePostgres
    redis: PrivateRedis
    feed: StatuspageServer
    actions: SlowProxy


def unseen_questions() -> list[dict[str, str]]:
    """Questions the FAQ never saw (bench/questions/unseen.jsonl), en and es."""
    path = ROOT / "bench/questions/unseen.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("text")]


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 60) -> float:
    """Poll ``check`` until true; return the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir: Path = tmp_path_factory.mktemp("faro-scale-out")
    pg, redis = PrivatePostgres(), PrivateRedis()
    pg.start()
    redis.start()
    replay = IncidentReplay.from_file(FEED).rebased(datetime.now(UTC))
    feed = StatuspageServer(replay)
    lb_port = free_port()
    actions = SlowProxy(f"http://127.0.0.1:{lb_port}")
    stack: ScaleOut | None = None
    try:
        with feed.running(), actions.running():
            stack = scale_out(
                Topology(
                    database_url=pg.url,
                    redis_url=redis.url,
                    redis_channel="faro:test:changes",
                    app_replicas=2,
                    rasa_replicas=2,
                    port=lb_port,
                ),
                data_dir=data_dir,
                base_env=None,
                action_url=actions.url + "/webhook",
                extra_env={
                    "FARO_STATUS_FEED": feed.url,
                    "FARO_STATUS_POLL_INTERVAL": "1",
                    "FARO_FAQ_POLL_INTERVAL": str(FAQ_POLL_S),
                    "FARO_WEB_PUSH_POLL": str(PUSH_POLL_S),
                    "FARO_WEB_RATE_PER_IP": "1000000",
                    "FARO_WEB_RATE_PER_SESSION": "10000",
                    "FARO_ADMIN_TOKEN": "scale-out-staff-token-0123456789",
                    "FARO_ADMIN_PASSWORD": "scale-out-admin-password",
                    "FARO_RASA_TIMEOUT": "8",
                },
            )
            stack.start()
            wait_until_serving(stack, timeout_s=180)
            yield World(stack=stack, pg=pg, redis=redis, feed=feed, actions=actions)
    finally:
        if stack is not None:
            stack.close()
        redis.stop()
        pg.close()
