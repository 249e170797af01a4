"""End to end: customers subscribe on Telegram, Slack and the web chat through the real Rasa
server; a real incident is replayed from a loopback Statuspage; every subscriber gets one message
per update, in their language, on their channel. Then the app is killed mid-broadcast and
restarted: nothing is lost and nothing is sent twice (read from the fake APIs' request logs)."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.broadcast.compose import Composer
from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import Recipient, SubscriptionStore
from bot.broadcast.tables import broadcasts
from bot.broadcast.watcher import Broadcaster
from bot.channels.slack.markup import escape
from bot.channels.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from bot.channels.web_history import WebHistory
from bot.db import Database
from bot.stack import ROOT, Stack, running_stack
from bot.status.live import LiveStatus
from bot.templates import TemplateStore
from tests.broadcast.test_channels import max_per_window
from tests.channels.telegram.conftest import SECRET
from tests.helpers.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    MockSlackApi,
    dm,
    running_slack_api,
    signed_headers,
)
from tests.helpers.status_server import IncidentReplay, StatuspageServer
from tests.helpers.telegram_builders import message_update
from tests.helpers.telegram_fake import TOKEN, Failure, FakeBotApi

pytestmark = pytest.mark.e2e

FIXTURE = ROOT / "tests/status/fixtures/incidents/rgy28jwprr1c.json"
TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])


@dataclass
class World:
    stack: Stack
    telegram: FakeBotApi
    slack: MockSlackApi
    feed: StatuspageServer
    replay: IncidentReplay
    updates: int = 0

    def telegram_turn(self, chat: int, text: str, lang: str) -> None:
        self.updates += 1
        response = self.stack.client.post(
            self.stack.app_url + WEBHOOK_PATH,
            json=message_update(9_000 + self.updates, chat, text, lang=lang),
            headers={SECRET_HEADER: SECRET},
        )
        assert response.status_code == 200

    def slack_dm(self, user: str, text: str) -> None:
        body = dm(text, user=user, channel="D" + user)
        headers = signed_headers(body, content_type="application/json")
        response = self.stack.client.post(
            self.stack.app_url + "/slack/events", content=body, headers=headers
        )
        assert response.status_code == 200

    def web_history(self, token: str) -> list[dict[str, Any]]:
        response = self.stack.client.get(
            self.stack.app_url + "/api/history", params={"session": token}
        )
        response.raise_for_status()
        return list(response.json()["messages"])

    def slack_texts(self, user: str) -> list[str]:
        return [
            str(c.body.get("text", ""))
            for c in self.slack.of("chat.postMessage")
            if c.status == 200 and c.body.get("channel") in (user, "D" + user)
        ]


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 40.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    replay = IncidentReplay.from_file(FIXTURE).rebased(datetime.now(UTC))
    data_dir: Path = tmp_path_factory.mktemp("faro-broadcast-e2e")
    with (
        FakeBotApi(enforce_retry_after=True).running() as telegram,
        running_slack_api() as slack,
        StatuspageServer(replay).running() as feed,
    ):
        feed.show(1)
        env = {
            "FARO_TELEGRAM_TOKEN": TOKEN,
            "FARO_TELEGRAM_SECRET": SECRET,
            "FARO_TELEGRAM_API_URL": telegram.url,
            "FARO_SLACK_BOT_TOKEN": BOT_TOKEN,
            "FARO_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "FARO_SLACK_API_URL": slack.url,
            "FARO_STATUS_FEED": feed.url,
            "FARO_STATUS_POLL_INTERVAL": "0.5",
        }
        with running_stack(data_dir, extra_env=env) as stack:
            # The broadcaster's first look at the feed records step 1 as history. Until
            # it has, a subscriber would (rightly) be told of the incident as new: wait,
            # or a slow first poll on a loaded machine sends the first subscriber a
            # fourth message (seen twice in CI-like runs).
            engine = Database.open(f"sqlite:///{data_dir / 'faro.db'}").engine

            def step_one_recorded() -> bool:
                with engine.connect() as conn:
                    query = sa.select(sa.func.count()).where(broadcasts.c.key.like("update:%"))
                    return bool(conn.execute(query).scalar_one())

            wait_until(step_one_recorded, "the broadcaster's first look at the feed")
            engine.dispose()
            yield World(stack, telegram, slack, feed, replay)


def headline(kind: str, lang: str) -> str:
    return TEMPLATES.render(f"broadcast.headline.{kind}", lang, name="@").split("@")[0]


def test_a_replayed_incident_reaches_every_subscriber_once_per_update(world: World) -> None:
    stack, tg = world.stack, world.telegram
    # --- subscribe in conversation, on every channel, in both languages ----------------
    world.telegram_turn(7001, "notify me of updates", "en")
    world.telegram_turn(7002, "avísame de novedades", "es")
    world.slack_dm("U0SUBEN", "keep me posted about the outage")
    world.slack_dm("U0SUBES", "avísame cuando se arregle el servicio, por favor")
    web = {
        "en": stack.chat("notify me of updates", lang="en")["session"],
        "es": stack.chat("avísame de novedades", lang="es")["session"],
    }
    confirmed = {lang: TEMPLATES.render("subscribe.confirmed", lang) for lang in ("en", "es")}
    wait_until(lambda: confirmed["en"] in tg.shown(7001), "Telegram en subscribed")
    wait_until(lambda: confirmed["es"] in tg.shown(7002), "Telegram es subscribed")
    wait_until(
        lambda: escape(confirmed["en"]) in world.slack_texts("U0SUBEN"), "Slack en subscribed"
    )
    wait_until(
        lambda: escape(confirmed["es"]) in world.slack_texts("U0SUBES"), "Slack es subscribed"
    )
    for lang, token in web.items():
        assert confirmed[lang] in [m["text"] for m in world.web_history(token)]

    # --- someone who only asks is offered a subscription, once --------------------------
    offer = TEMPLATES.render("subscribe.offer", "en")
    world.telegram_turn(7003, "is the service down?", "en")
    wait_until(lambda: offer in tg.shown(7003), "the offer")
    world.telegram_turn(7003, "is the service down?", "en")
    wait_until(lambda: len(tg.shown(7003)) >= 3, "the second status answer")
    time.sleep(1)
    assert tg.shown(7003).count(offer) == 1
    world.telegram_turn(7001, "is the service down?", "en")  # a subscriber: no offer
    wait_until(lambda: len(tg.shown(7001)) >= 2, "a subscriber's status answer")
    assert offer not in tg.shown(7001)

    # --- replay the incident: one message per update per subscriber ---------------------
    readers: dict[str, tuple[str, Callable[[], list[str]]]] = {
        "tg-en": ("en", lambda: tg.shown(7001)),
        "tg-es": ("es", lambda: tg.shown(7002)),
        "slack-en": ("en", lambda: world.slack_texts("U0SUBEN")),
        "slack-es": ("es", lambda: world.slack_texts("U0SUBES")),
        "web-en": ("en", lambda: [m["text"] for m in world.web_history(web["en"])]),
        "web-es": ("es", lambda: [m["text"] for m in world.web_history(web["es"])]),
    }

    def squash(text: str) -> str:
        return " ".join(text.split())

    for step in range(2, world.replay.steps + 1):
        world.feed.show(step)
        body = squash(world.replay.update_at(step)["body"])
        kind = "resolved" if step == world.replay.steps else "update"
        for name, (lang, read) in readers.items():

            def arrived(read: Callable[[], list[str]] = read, body: str = body) -> bool:
                return any(body in squash(t) for t in read())

            wait_until(arrived, f"{name} step {step}")
            [message] = [t for t in read() if body in squash(t)]
            assert message.startswith(headline(kind, lang)), (name, message)
    time.sleep(2)  # anything sent twice would arrive by now
    for name, (_lang, read) in readers.items():
        news = [t for t in read() if t.startswith(("🔔", "✅"))]
        assert len(news) == world.replay.steps - 1, (name, news)
    # the asker who did not subscribe hears of the resolution, once
    told = [t for t in tg.shown(7003) if t.startswith(headline("asker_resolved", "en"))]
    assert len(told) == 1
    # Telegram's limits, from the fake's log
    ok = [c.at for c in tg.calls_of("sendMessage", ok=True)]
    assert max_per_window(ok) <= 30

    # --- stopping: /stop on Telegram, in words on Slack ------------------------------------
    world.telegram_turn(7002, "/stop", "es")
    stopped_es = TEMPLATES.render("unsubscribe.confirmed", "es")
    wait_until(lambda: stopped_es in tg.shown(7002), "Telegram /stop")
    world.slack_dm("U0SUBEN", "stop sending me updates")
    stopped_en = escape(TEMPLATES.render("unsubscribe.confirmed", "en"))
    wait_until(lambda: stopped_en in world.slack_texts("U0SUBEN"), "Slack stop updates")


def test_killed_mid_broadcast_then_restarted_nothing_lost_nothing_twice(world: World) -> None:
    stack, tg, slack = world.stack, world.telegram, world.slack
    engine = Database.open(f"sqlite:///{stack.data_dir / 'faro.db'}").engine
    subscriptions, outbox = SubscriptionStore(engine), Outbox(engine)
    chats = list(range(80_000, 80_120))
    users = [f"U9{i:04d}" for i in range(40)]
    sessions = [f"web:crash{i}" for i in range(30)]
    subscriptions.add_many(
        [(Recipient(f"telegram:{c}", "telegram", str(c), "en"), ()) for c in chats]
        + [(Recipient(f"slack:T1:{u}", "slack", u, "es"), ()) for u in users]
        + [(Recipient(s, "web", s, "en"), ()) for s in sessions]
    )
    broadcaster = Broadcaster(
        live=LiveStatus(), subscriptions=subscriptions, outbox=outbox, composer=Composer(TEMPLATES)
    )
    texts = {"en": "Branches open until 8 pm today.", "es": "Las oficinas abren hasta las 20 h."}
    everyone = len(subscriptions.active())  # these and the first test's subscribers
    bid = broadcaster.announce(texts, created_by="test", key="announce:crash")
    assert bid is not None

    def delivered_chats() -> Counter[int]:
        return Counter(
            int(m["chat_id"]) for m in tg.sent() if "Branches open until 8 pm" in m["text"]
        )

    # let part of it go out, then have Telegram rate-limit us and kill the app in the pause
    wait_until(lambda: sum(delivered_chats().values()) >= 40, "40 Telegram deliveries")
    tg.fail_next("sendMessage", 1, Failure(status=429, retry_after=4))
    wait_until(lambda: any(c.status == 429 for c in tg.calls_of("sendMessage")), "the 429")
    time.sleep(0.5)  # requests in flight when the 429 came back complete
    assert stack.app is not None
    stack.app.send_signal(signal.SIGKILL)
    stack.app.wait(timeout=10)
    before = sum(delivered_chats().values())
    assert 40 <= before < len(chats), before

    stack.start_app()
    deadline = time.monotonic() + 90
    while not all(p.done for p in outbox.progress(broadcast_id=bid)):
        assert time.monotonic() < deadline, outbox.progress(broadcast_id=bid)
        time.sleep(0.5)

    # (the subscribers of the first test get it too)
    assert {c: n for c, n in delivered_chats().items() if c in chats} == {c: 1 for c in chats}
    slack_posts = Counter(
        c.body["channel"]
        for c in slack.of("chat.postMessage")
        if c.status == 200 and "oficinas abren" in str(c.body.get("text", ""))
    )
    assert {u: n for u, n in slack_posts.items() if u in users} == {u: 1 for u in users}
    # those who stopped updates in the first test got nothing
    assert 7002 not in delivered_chats() and "U0SUBEN" not in slack_posts
    history = WebHistory(Database.open(f"sqlite:///{stack.data_dir / 'faro.db'}").engine)
    for session in sessions:
        pushed = history.pushed_after(session, after=0, start_id=0)
        assert [m.text for m in pushed if "Branches open" in m.text] != [], session
        assert len([m for m in pushed if "Branches open" in m.text]) == 1, session
    history.dispose()
    rows = outbox.audit(broadcast_id=bid, limit=1000)
    assert Counter(r.state for r in rows) == {"sent": everyone}
    assert any(r.interrupted for r in rows)  # the kill really caught deliveries half-way
    # no Telegram message was accepted while the 429's retry_after ran
    [limited] = [c for c in tg.calls_of("sendMessage") if c.status == 429][:1]
    ok = [c.at for c in tg.calls_of("sendMessage", ok=True)]
    assert not [t for t in ok if limited.at + 0.1 < t < limited.at + 3.9]
    assert max_per_window(ok) <= 30
    engine.dispose()
