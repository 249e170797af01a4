"""The scale-out for real: 2 app replicas behind HAProxy, 2 Rasa replicas, PostgreSQL for the
app and the trackers, Redis for Rasa's locks and for pub/sub between the app replicas."""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from bot.broadcast.compose import Composer
from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import Recipient, SubscriptionStore
from bot.broadcast.watcher import Broadcaster
from bot.channels.web import SessionSigner
from bot.channels.web_history import WebHistory
from bot.db import Database
from bot.rasa.client import RasaClient
from bot.status.live import LiveStatus
from tests.scaleout.conftest import FAQ_POLL_S, PUSH_POLL_S, World, unseen_questions, wait_until
from tests.scaleout.surge import TEMPLATES, Surge

pytestmark = pytest.mark.e2e

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "scale-out-admin-password"


def chat(url: str, text: str, session: str | None = None, lang: str = "en") -> dict[str, Any]:
    body: dict[str, Any] = {"text": text, "lang": lang}
    if session:
        body["session"] = session
    response = httpx.post(url + "/api/chat", json=body, timeout=60)
    response.raise_for_status()
    return dict(response.json())


def texts(reply: dict[str, Any]) -> list[str]:
    return [str(m.get("text", "")) for m in reply["messages"]]


def locks_by_replica(world: World) -> list[Counter[str]]:
    """Conversations each Rasa replica took a lock for (its log, one line per turn)."""
    found = []
    for i in range(len(world.stack.rasa_ports)):
        log = world.stack.project.logs_dir / f"rasa-{i}.log"
        found.append(
            Counter(re.findall(r"Acquired lock for conversation '([^']+)'", log.read_text()))
        )
    return found


def test_questions_are_answered_through_the_load_balancer_by_both_app_replicas(
    world: World,
) -> None:
    questions = unseen_questions()[:24]
    with Surge(world.stack.url, questions, conversations=8, turns=3) as surge:
        pass
    result = surge.result
    print("\nthrough the load balancer:", result.summary(time.monotonic()))
    assert result.outcomes() == {"answered": 24}, result.outcomes()
    # no stickiness: both replicas served customers (HAProxy's round robin)
    stats = httpx.get(world.stack.url + "/health", timeout=10).json()
    assert stats["changes"] == "redis"
    for url in world.stack.app_urls:
        health = httpx.get(url + "/health", timeout=10)
        assert health.status_code == 200 and health.json()["rasa"] == "ok", health.text


def test_a_conversations_turns_all_go_to_one_rasa_replica(world: World) -> None:
    sessions: list[str] = []
    for n in range(12):
        first = chat(world.stack.url, f"hello, this is customer {n}")
        token = first["session"]
        for text in ("is the service down?", "why is my card declined", "thanks"):
            assert texts(chat(world.stack.url, text, token)), text
        sessions.append(token)
    signer_secret = world.stack.env["FARO_SESSION_SECRET"]
    signer = SessionSigner(signer_secret)
    ids = [f"web:{signer.verify(t)}" for t in sessions]
    router = RasaClient(urls=tuple(world.stack.rasa_urls))
    locks = locks_by_replica(world)
    for cid in ids:
        where = [i for i, seen in enumerate(locks) if seen[cid]]
        # every turn (4 per conversation, each taking the lock) on the one replica it hashes to
        assert where == [world.stack.rasa_urls.index(router.replica_for(cid))], (cid, where)
        assert locks[where[0]][cid] >= 4
    assert all(any(seen[c] for c in ids) for seen in locks), "both replicas had conversations"


def _admin(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    token = _CSRF.search(client.get("/admin/login").text)
    assert token
    signed = client.post(
        "/admin/login", data={"csrf": token.group(1), "name": "Ana", "password": PASSWORD}
    )
    assert signed.status_code in (200, 303), signed.text[:300]
    return client


def test_an_faq_edit_on_one_replica_is_served_by_the_other_at_once(world: World) -> None:
    app0, app1 = world.stack.app_urls
    before = httpx.get(app1 + "/health", timeout=10).json()["faq_entries"]
    admin = _admin(app0)
    csrf = _CSRF.search(admin.get("/admin/entries/new").text)
    assert csrf
    answer = "Our branch in Valencia opens at 9:00 on Saturdays during the incident."
    saved_at = time.monotonic()
    response = admin.post(
        "/admin/entries/new",
        data={
            "csrf": csrf.group(1),
            "id": "valencia-saturday",
            "question_en": "When does the Valencia branch open on Saturday?",
            "answer_en": answer,
        },
    )
    assert response.status_code in (200, 303), response.text[:300]
    took = wait_until(
        lambda: httpx.get(app1 + "/health", timeout=10).json()["faq_entries"] == before + 1,
        "the other replica to serve the new entry",
        timeout_s=FAQ_POLL_S * 3,
    )
    took = time.monotonic() - saved_at
    print(f"\nFAQ edit on replica 0 served by replica 1 after {took:.2f} s (poll: {FAQ_POLL_S} s)")
    # Redis pub/sub, not the database poll, carried it
    assert took < FAQ_POLL_S / 2, took
    # and customers get it, whichever replica answers
    for _ in range(4):
        reply = chat(world.stack.url, "When does the Valencia branch open on Saturday?")
        assert any(html.unescape(t) == answer for t in texts(reply)), texts(reply)


def test_a_broadcast_goes_out_once_and_reaches_open_widgets_on_every_replica(
    world: World,
) -> None:
    stack = world.stack
    signer_secret = stack.env["FARO_SESSION_SECRET"]
    signer = SessionSigner(signer_secret)
    tokens = [chat(stack.url, "hi")["session"] for _ in range(6)]
    sessions = [f"web:{signer.verify(t)}" for t in tokens]
    db = Database.open(stack.topology.database_url)
    subscriptions, outbox = SubscriptionStore(db.engine), Outbox(db.engine)
    subscriptions.add_many([(Recipient(s, "web", s, "en"), ()) for s in sessions])
    # an open widget per session on EACH app replica (directly, not through the balancer)
    streams: list[tuple[int, str, list[str]]] = []

    def listen(replica: int, token: str, got: list[str], ready: threading.Event) -> None:
        base = stack.app_urls[replica]
        ticket = httpx.post(base + "/api/stream-ticket", json={"session": token}, timeout=10)
        ticket.raise_for_status()
        params = {"ticket": ticket.json()["ticket"], "after": "0"}
        with httpx.stream("GET", base + "/api/events", params=params, timeout=60) as response:
            event = ""
            for line in response.iter_lines():
                ready.set()
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "message":
                    got.append(json.loads(line[6:])["text"])
                    if len(got) >= 1:
                        return

    threads = []
    for replica in (0, 1):
        for token in tokens:
            got: list[str] = []
            ready = threading.Event()
            thread = threading.Thread(target=listen, args=(replica, token, got, ready), daemon=True)
            thread.start()
            assert ready.wait(20), "stream did not open"
            streams.append((replica, token, got))
            threads.append(thread)
    broadcaster = Broadcaster(
        live=LiveStatus(),
        subscriptions=subscriptions,
        outbox=outbox,
        composer=Composer(TEMPLATES),
    )
    text = "Branches in Madrid stay open until 20:00 today."
    started = time.monotonic()
    bid = broadcaster.announce({"en": text}, created_by="test", key="scaleout:once")
    assert bid is not None
    wait_until(lambda: all(p.done for p in outbox.progress(broadcast_id=bid)), "the broadcast", 60)
    for thread in threads:
        thread.join(timeout=PUSH_POLL_S / 2)
    took = time.monotonic() - started
    print(f"\nbroadcast reached {len(streams)} open widgets on 2 replicas in {took:.2f} s")
    assert [got for _, _, got in streams if not got] == [], "a widget did not get it in time"
    assert all(len(got) == 1 and text in got[0] for _, _, got in streams)
    # delivered once per subscriber, not once per replica
    history = WebHistory(db.engine)
    for sid in sessions:
        pushed = [m for m in history.pushed_after(sid, after=0, start_id=0) if text in m.text]
        assert len(pushed) == 1, sid
    rows = outbox.audit(broadcast_id=bid, limit=1000)
    assert Counter(r.state for r in rows) == {"sent": len(sessions)}
    history.dispose()
    db.dispose()
