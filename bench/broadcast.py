"""Benchmark broadcast delivery: the time to deliver one incident update to N subscribers
split across Telegram, Slack and the web chat, plus email and SMS subscribers, next to the
bound the providers' limits allow.

Everything but the platforms is real: the app database (SQLite by default), the outbox,
the broadcaster, the delivery worker, the channel senders with their rate limiters
(Telegram 30 messages/s overall, 1/s per chat; Slack 1/s per channel). Telegram and Slack
are the loopback fakes the tests use, in a process of their own (bench/_fakes.py); the web
chat writes to the real web history.
The bound: no bot may send more than 30 Telegram messages per second, so Telegram's share
cannot take less than n_telegram / 30 s (Slack's limit is per channel, one subscriber each:
no bound below the others; the web chat has none); email cannot take less than
n_email / smtp_rate and SMS less than n_sms / sms_rate (the configured provider limits,
FARO_SMTP_RATE and FARO_TWILIO_RATE; the Twilio fake refuses with 429 beyond its rate).
The bound is the largest of these. Prints figures only.

    .venv/bin/python bench/broadcast.py [--subscribers 10000] [--split 3,3,4]
        [--email 3000] [--sms 3000] [--smtp-rate 30] [--sms-rate 30]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.broadcast.compose import Composer  # noqa: E402
from bot.broadcast.delivery import Deliverer, DeliveryWorker  # noqa: E402
from bot.broadcast.outbox import Outbox  # noqa: E402
from bot.broadcast.subscriptions import Recipient, SubscriptionStore  # noqa: E402
from bot.broadcast.watcher import Broadcaster  # noqa: E402
from bot.channels.contact.links import Links  # noqa: E402
from bot.channels.email.sender import EmailDeliverer, SmtpSender, SmtpServer  # noqa: E402
from bot.channels.slack.push import SlackDeliverer  # noqa: E402
from bot.channels.slack.sender import SlackSender, make_client  # noqa: E402
from bot.channels.sms.sender import SmsDeliverer  # noqa: E402
from bot.channels.sms.twilio import TwilioClient  # noqa: E402
from bot.channels.telegram.push import TelegramDeliverer  # noqa: E402
from bot.channels.telegram.sender import TelegramSender  # noqa: E402
from bot.channels.telegram.wiring import build_bot  # noqa: E402
from bot.channels.web_history import WebHistory  # noqa: E402
from bot.channels.web_push import PushHub, WebDeliverer  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.settings import TelegramSettings  # noqa: E402
from bot.status.live import LiveStatus  # noqa: E402
from bot.status.model import (  # noqa: E402
    Component,
    ComponentStatus,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    StatusSnapshot,
)
from bot.templates import TemplateStore  # noqa: E402
from tests.helpers.slack_fake import BOT_TOKEN  # noqa: E402
from tests.helpers.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FROM  # noqa: E402

TELEGRAM_PER_S = 30.0
TOKEN = "123456:BENCH"


def snapshot(step: int, now: datetime) -> StatusSnapshot:
    """The page with one incident and ``step`` updates."""
    statuses = [IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED]
    updates = tuple(
        IncidentUpdate(
            id=f"u{i}",
            status=statuses[min(i, 1)],
            body=f"Update {i}: card payments are failing for some customers. "
            "We will post the next update within 30 minutes.",
            display_at=now,
        )
        for i in reversed(range(step))
    )
    card = Component(id="c1", name="Card payments", status=ComponentStatus.PARTIAL_OUTAGE)
    incident = Incident(
        id="inc1",
        name="Card payments failing",
        status=updates[0].status,
        updates=updates,
        components=(card,),
        updated_at=now,
    )
    return StatusSnapshot(components=(card,), incidents=(incident,), as_of=now, fetched_at=now)


def split(total: int, weights: list[int]) -> list[int]:
    """``total`` split by ``weights`` (telegram, slack, web)."""
    parts = [total * w // sum(weights) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


async def run(
    n: int,
    weights: list[int],
    database_url: str | None,
    *,
    n_email: int = 0,
    n_sms: int = 0,
    smtp_rate: float = 30.0,
    sms_rate: float = 30.0,
) -> dict[str, Any]:
    """Subscribe ``n`` (+ email and SMS), broadcast one update, wait until all is delivered."""
    n_tg, n_slack, n_web = split(n, weights)
    templates = TemplateStore.from_paths([ROOT / "data" / "templates"])
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'faro.db'}"
        database = Database.open(url)  # migrated, as the app opens it
        engine = database.engine
        subscriptions, outbox = SubscriptionStore(engine), Outbox(engine)
        history = WebHistory(engine)
        hub = PushHub(history)
        live = LiveStatus()
        now = datetime.now(UTC)
        broadcaster = Broadcaster(
            live=live,
            subscriptions=subscriptions,
            outbox=outbox,
            composer=Composer(templates),
        )
        # the incident as first seen, before anyone subscribed: no recipients
        broadcaster.process(snapshot(1, now), now=now)
        subscriptions.add_many(
            itertools.chain(
                ((Recipient(f"telegram:{10_000 + i}", "telegram", str(10_000 + i), "en"), ())
                 for i in range(n_tg)),
                ((Recipient(f"slack:T1:U{i:06d}", "slack", f"U{i:06d}", "es"), ())
                 for i in range(n_slack)),
                ((Recipient(f"web:bench{i}", "web", f"web:bench{i}", "en"), ())
                 for i in range(n_web)),
                ((Recipient(f"email:b{i}@example.com", "email", f"b{i}@example.com", "es"), ())
                 for i in range(n_email)),
                ((Recipient(f"sms:+4474{i:08d}", "sms", f"+4474{i:08d}", "en"), ())
                 for i in range(n_sms)),
            )
        )  # fmt: skip
        fakes = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_fakes.py"), TOKEN, str(sms_rate)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert fakes.stdin is not None and fakes.stdout is not None
        urls = json.loads(fakes.stdout.readline())
        bot = build_bot(TelegramSettings(token=TOKEN, api_url=urls["telegram"]))
        await bot.initialize()
        deliverers: list[Deliverer] = [
            TelegramDeliverer(TelegramSender(bot)),
            SlackDeliverer(SlackSender(make_client(token=BOT_TOKEN, base_url=urls["slack"]))),
            WebDeliverer(hub),
        ]
        twilio = TwilioClient(
            account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, sender=FROM, api_url=urls["twilio"]
        )
        if n_email:
            smtp = SmtpServer(host="127.0.0.1", port=urls["smtp_port"])
            deliverers.append(
                EmailDeliverer(
                    SmtpSender(smtp, rate_per_s=smtp_rate),
                    from_address="updates@northwind.example",
                    templates=templates,
                    links=Links(secret="bench", public_url="https://u.example", ttl_s=3600),
                )
            )
        if n_sms:
            deliverers.append(SmsDeliverer(twilio, templates=templates, rate_per_s=sms_rate))
        worker = DeliveryWorker(outbox, subscriptions, deliverers)
        await worker.start()
        started = time.perf_counter()
        [bid] = await asyncio.to_thread(broadcaster.process, snapshot(2, now), now=now)
        enqueued = time.perf_counter() - started
        worker.wake()
        done_at: dict[str, float] = {}
        sizes = {"telegram": n_tg, "slack": n_slack, "web": n_web, "email": n_email, "sms": n_sms}
        sizes = {c: size for c, size in sizes.items() if size}
        last_report = 0.0
        while len(done_at) < len(sizes):
            await asyncio.sleep(0.25)
            counts = _counts_by_channel(outbox, bid)
            elapsed = time.perf_counter() - started
            for channel, size in sizes.items():
                if channel not in done_at and counts.get(channel, 0) >= size:
                    done_at[channel] = elapsed
            if elapsed - last_report >= 5:
                last_report = elapsed
                print(
                    f"  {elapsed:6.1f} s  delivered "
                    + ", ".join(f"{c} {counts.get(c, 0)}/{s}" for c, s in sizes.items()),
                    file=sys.stderr,
                )
        total = time.perf_counter() - started
        await worker.stop()
        await bot.shutdown()
        await twilio.aclose()
        fakes.stdin.write("dump\n")
        fakes.stdin.flush()
        logs = json.loads(fakes.stdout.readline())
        fakes.wait(timeout=30)
        tg_ok = [at for at, _ in logs["telegram"]]
        slack_ok = logs["slack"]
        rows = outbox.audit(broadcast_id=bid, limit=n + n_email + n_sms + 10)
        states = Counter(r.state for r in rows)
        database.dispose()
    bounds = {
        "telegram": n_tg / TELEGRAM_PER_S,
        "email": n_email / smtp_rate,
        "sms": n_sms / sms_rate,
    }
    bound = max(bounds.values())
    return {
        "subscribers": n + n_email + n_sms,
        "telegram": n_tg,
        "slack": n_slack,
        "web": n_web,
        "email": n_email,
        "sms": n_sms,
        "smtp_rate": smtp_rate,
        "sms_rate": sms_rate,
        "bounds_s": {c: round(b, 1) for c, b in bounds.items()},
        "enqueue_s": round(enqueued, 2),
        "total_s": round(total, 1),
        "done_s": {c: round(t, 1) for c, t in done_at.items()},
        "bound_s": round(bound, 1),
        "ratio": round(total / bound, 2) if bound else None,
        "states": dict(states),
        "telegram_max_per_s": _max_per_window(tg_ok),
        "telegram_sent": len(tg_ok),
        "slack_sent": len(slack_ok),
        "email_sent": len(logs["email"]),
        "sms_sent": len(logs["sms"]),
        "sms_max_per_s": _max_per_window([at for at, _ in logs["sms"]]),
        "email_max_per_s": _max_per_window([at for at, _ in logs["email"]]),
        "sms_429": logs["sms_429"],
        "database": "postgresql" if database_url else "sqlite",
    }


def _counts_by_channel(outbox: Outbox, broadcast_id: int) -> dict[str, int]:
    import sqlalchemy as sa

    from bot.broadcast.tables import outbox as table

    with outbox.engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.channel, sa.func.count())
            .where(table.c.broadcast_id == broadcast_id, table.c.state == "sent")
            .group_by(table.c.channel)
        ).all()
    return {channel: n for channel, n in rows}


def _max_per_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:  # half-open windows, as in the tests
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> None:
    """Parse arguments, run, print."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--split", default="3,3,4", help="telegram,slack,web weights")
    parser.add_argument("--email", type=int, default=3000, help="email subscribers")
    parser.add_argument("--sms", type=int, default=3000, help="SMS subscribers")
    parser.add_argument("--smtp-rate", type=float, default=30.0, help="emails per second")
    parser.add_argument("--sms-rate", type=float, default=30.0, help="Twilio's messages/s")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    weights = [int(w) for w in args.split.split(",")]
    if len(weights) != 3 or min(weights) < 0 or sum(weights) == 0:
        parser.error("--split: three non-negative weights, e.g. 3,3,4")
    result = asyncio.run(
        run(
            args.subscribers,
            weights,
            args.database_url,
            n_email=args.email,
            n_sms=args.sms,
            smtp_rate=args.smtp_rate,
            sms_rate=args.sms_rate,
        )
    )
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"one update to {result['subscribers']} subscribers "
        f"(telegram {result['telegram']}, slack {result['slack']}, web {result['web']}, "
        f"email {result['email']}, sms {result['sms']}, {result['database']})"
    )
    print(f"  fan-out into the outbox: {result['enqueue_s']} s")
    print(f"  delivered to all: {result['total_s']} s; per channel: {result['done_s']}")
    print(
        f"  bound: {result['bound_s']} s (Telegram 30/s, SMTP {result['smtp_rate']}/s, "
        f"Twilio {result['sms_rate']}/s: {result['bounds_s']}); ratio {result['ratio']}"
    )
    print(
        f"  email max in any 1 s: {result['email_max_per_s']}; SMS max in any 1 s: "
        f"{result['sms_max_per_s']}; Twilio 429s: {result['sms_429']}"
    )
    print(f"  states: {result['states']}; Telegram max in any 1 s: {result['telegram_max_per_s']}")


if __name__ == "__main__":
    main()
