"""bot.channels.web_push: pushed messages over server-sent events on a real loopback server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.web_history import WebHistory
from bot.core.messages import BotMessage
from bot.db import Database
from bot.stack import ROOT, free_port
from tests.widget.server import WidgetServer, incident, widget_server


@dataclass
class Event:
    kind: str
    data: dict[str, Any]
    id: int | None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WidgetServer]:
    with widget_server(tmp_path / "web.db") as s:
        yield s


@pytest.fixture
def http(server: WidgetServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def new_session(http: httpx.Client) -> str:
    return str(http.post("/api/session").json()["session"])


def ticket(http: httpx.Client, token: str) -> str:
    """A stream ticket for the session ``token``."""
    return str(http.post("/api/stream-ticket", json={"session": token}).json()["ticket"])


@contextmanager
def stream(
    http: httpx.Client, token: str, *, last_event_id: int | None = None, after: int | None = None
) -> Iterator[Iterator[Event]]:
    """Open /api/events and iterate over parsed events (a read timeout fails the test)."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    params: dict[str, Any] = {"ticket": ticket(http, token), "lang": "en"}
    if after is not None:
        params["after"] = after
    with http.stream("GET", "/api/events", params=params, headers=headers, timeout=8) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        yield _events(r.iter_lines())


def _events(lines: Iterator[str]) -> Iterator[Event]:
    kind, data, eid = "message", "", None
    for line in lines:
        if line == "":
            if data:
                yield Event(kind, json.loads(data), eid)
            kind, data, eid = "message", "", None
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data += line[6:]
        elif line.startswith("id: "):
            eid = int(line[4:])


def messages(events: Iterator[Event], n: int) -> list[Event]:
    got: list[Event] = []
    for e in events:
        if e.kind == "message":
            got.append(e)
            if len(got) == n:
                return got
    raise AssertionError("stream ended early")


def later(seconds: float, action: Any) -> None:
    threading.Timer(seconds, action).start()


def test_stream_starts_with_the_banner_then_delivers_a_pushed_message(
    server: WidgetServer, http: httpx.Client
) -> None:
    token = new_session(http)
    sid = token.split(".")[0]
    with stream(http, token) as events:
        first = next(events)
        assert (first.kind, first.data["active"]) == ("banner", False)
        later(0.2, lambda: server.hub.publish(f"web:{sid}", BotMessage("Card payments are back.")))
        [pushed] = messages(events, 1)
    assert pushed.data["text"] == "Card payments are back."
    assert pushed.data["role"] == "push" and pushed.id == pushed.data["id"]


def test_a_push_to_another_session_is_not_delivered_but_a_broadcast_is(
    server: WidgetServer, http: httpx.Client
) -> None:
    token, other = new_session(http), new_session(http)
    other_sid = other.split(".")[0]

    def publish() -> None:
        server.hub.publish(f"web:{other_sid}", BotMessage("for the other visitor only"))
        server.hub.publish(None, BotMessage("for everyone"))

    with stream(http, token) as events:
        later(0.2, publish)
        [got] = messages(events, 1)
    assert got.data["text"] == "for everyone"


def test_reconnect_with_last_event_id_loses_and_repeats_nothing(
    server: WidgetServer, http: httpx.Client
) -> None:
    token = new_session(http)
    conv = "web:" + token.split(".")[0]
    server.hub.publish(conv, BotMessage("one"))
    with stream(http, token) as events:
        [one] = messages(events, 1)
    # the connection dropped; two messages are pushed meanwhile
    server.hub.publish(conv, BotMessage("two"))
    server.hub.publish(None, BotMessage("three"))
    with stream(http, token, last_event_id=one.id) as events:
        two, three = messages(events, 2)
        later(0.2, lambda: server.hub.publish(conv, BotMessage("four")))
        [four] = messages(events, 1)
    assert [e.data["text"] for e in (two, three, four)] == ["two", "three", "four"]
    assert one.id is not None and one.id < two.id < three.id < four.id  # type: ignore[operator]
    # Last-Event-ID wins over a stale ?after= in the URL (the browser reconnects with both)
    with stream(http, token, last_event_id=three.id, after=0) as events:
        [again] = messages(events, 1)
    assert again.data["text"] == "four"


def test_a_message_written_by_another_replica_arrives_by_polling(
    server: WidgetServer, http: httpx.Client, tmp_path: Path
) -> None:
    token = new_session(http)
    other_replica = WebHistory(Database.open(f"sqlite:///{tmp_path / 'web.db'}").engine)
    conv = "web:" + token.split(".")[0]
    try:
        with stream(http, token) as events:
            later(0.2, lambda: other_replica.append(conv, "push", [BotMessage("from replica 2")]))
            [got] = messages(events, 1)  # no wake-up in this process: the 1 s poll finds it
    finally:
        other_replica.dispose()
    assert got.data["text"] == "from replica 2"


def test_banner_change_is_pushed_to_open_streams(server: WidgetServer, http: httpx.Client) -> None:
    token = new_session(http)
    with stream(http, token) as events:
        assert next(events).data["active"] is False
        later(0.2, lambda: server.set_status(incident("As of 10:00 UTC, we are investigating.")))
        banner = next(e for e in events if e.kind == "banner")
    assert banner.data["active"] is True
    assert banner.data["phase"] == "investigating"
    assert banner.data["text"] == "As of 10:00 UTC, we are investigating."
    assert banner.id is None  # banners do not move the resume cursor


def test_broadcasts_before_a_session_started_are_not_in_its_history(
    server: WidgetServer, http: httpx.Client
) -> None:
    early = new_session(http)
    server.hub.publish(None, BotMessage("incident update 1"))
    late = new_session(http)
    server.hub.publish(None, BotMessage("incident update 2"))

    def texts(token: str) -> list[str]:
        r = http.get("/api/history", params={"session": token})
        return [m["text"] for m in r.json()["messages"]]

    assert texts(early) == ["incident update 1", "incident update 2"]
    assert texts(late) == ["incident update 2"]


def test_too_many_streams_for_one_session_are_refused(
    server: WidgetServer, http: httpx.Client
) -> None:
    token = new_session(http)
    with (
        stream(http, token) as a,
        stream(http, token) as b,
        stream(http, token) as c,
        stream(http, token) as d,
    ):
        for s in (a, b, c, d):
            next(s)
        r = http.get("/api/events", params={"ticket": ticket(http, token)})
        assert r.status_code == 429
        assert "too many open chat windows" in r.json()["error"]


@pytest.mark.parametrize("bad", ["abc", "-1", "1e3", "99999999999999999999"])
def test_a_bad_resume_cursor_is_400(server: WidgetServer, http: httpx.Client, bad: str) -> None:
    token = new_session(http)
    r = http.get(
        "/api/events", params={"ticket": ticket(http, token)}, headers={"Last-Event-ID": bad}
    )
    assert r.status_code == 400


def test_ctrl_c_ends_open_streams_at_once_instead_of_waiting_for_them() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.widget.serve_channel", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "started"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            token = new_session(http)
            with stream(http, token) as events:  # the headers came: the stream is open
                proc.send_signal(signal.SIGINT)
                leftover = list(events)  # the server ends the stream: iteration stops
        assert leftover == []
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "exited" in out
    assert "timeout graceful shutdown exceeded" not in out
    assert "Exception in ASGI application" not in out


def test_a_publish_reaches_an_open_stream_at_once_not_at_the_next_poll(tmp_path: Path) -> None:
    # the fallback poll (other replicas) is 30 s here: a push in this process must not wait for it
    with (
        widget_server(tmp_path / "web.db", poll_s=30.0) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        token = new_session(http)
        conv = "web:" + token.split(".")[0]
        reads: list[int] = []
        pushed_after = server.hub.history.pushed_after

        def counted(*args: Any, **kwargs: Any) -> Any:
            reads.append(1)
            return pushed_after(*args, **kwargs)

        server.hub.history.pushed_after = counted  # type: ignore[method-assign]
        with stream(http, token) as events:
            assert next(events).kind == "banner"
            time.sleep(2.5)  # idle: the stream does not read the history on a timer
            idle_reads = len(reads)
            sent = time.monotonic()
            later(0.0, lambda: server.hub.publish(conv, BotMessage("right now")))
            [got] = messages(events, 1)
            took = time.monotonic() - sent
        assert got.data["text"] == "right now"
        assert took < 1.0, took  # well before the 30 s poll
        assert idle_reads <= 2, idle_reads  # the first read, and the hub's first look at most
