"""End to end, email and SMS: customers subscribe through POST /api/subscribe of the real app
(with the real Rasa server beside it), confirm by the emailed link and the texted code; a real
incident is replayed from a loopback Statuspage; each confirmed subscriber gets each update
once, in their language, by email over a real SMTP server and by SMS through the Twilio fake;
one-click unsubscribe and STOP work. Then the app is killed mid-broadcast to 500 email and 500
SMS subscribers and restarted: the rest is delivered, no duplicate beyond rows marked
interrupted."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from bot.broadcast.compose import Composer
from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import Recipient, SubscriptionStore
from bot.broadcast.watcher import Broadcaster
from bot.channels.sms.inbound import INBOUND_PATH, SIGNATURE_HEADER, twilio_signature
from bot.channels.sms.render import plain
from bot.db import Database
from bot.stack import ROOT, Stack, running_stack
from bot.status.live import LiveStatus
from bot.templates import TemplateStore
from tests.helpers.smtp_server import SmtpServer, text_of
from tests.helpers.status_server import IncidentReplay, StatuspageServer
from tests.helpers.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio

pytestmark = pytest.mark.e2e

FIXTURE = ROOT / "tests/status/fixtures/incidents/rgy28jwprr1c.json"
TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])
EMAIL_ES = "lucia@example.com"
EMAIL_EN = "tom@example.com"
PHONE_EN = "+447400123456"
PHONE_ES = "+34612345678"


@dataclass
class World:
    stack: Stack
    smtp: SmtpServer
    twilio: FakeTwilio
    feed: StatuspageServer
    replay: IncidentReplay

    def post(self, path: str, **kwargs: object) -> tuple[int, dict[str, object]]:
        response = self.stack.client.post(self.stack.app_url + path, **kwargs)  # type: ignore[arg-type]
        return response.status_code, response.json()


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 40.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    replay = IncidentReplay.from_file(FIXTURE).rebased(datetime.now(UTC))
    data_dir: Path = tmp_path_factory.mktemp("faro-contact-e2e")
    with (
        SmtpServer().running() as smtp,
        FakeTwilio(max_per_s=60).running() as twilio,
        StatuspageServer(replay).running() as feed,
    ):
        feed.show(1)
        env = {
            "FARO_SMTP_URL": smtp.url,
            "FARO_EMAIL_FROM": "updates@northwind.example",
            "FARO_SMTP_RATE": "60",
            "FARO_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "FARO_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "FARO_TWILIO_FROM": FROM,
            "FARO_TWILIO_API_URL": twilio.url,
            "FARO_TWILIO_RATE": "50",
            "FARO_STATUS_FEED": feed.url,
            "FARO_STATUS_POLL_INTERVAL": "0.5",
        }
        with running_stack(data_dir, extra_env=env) as stack:
            yield World(stack, smtp, twilio, feed, replay)


def squash(text: str) -> str:
    return " ".join(text.split())


def headline(kind: str, lang: str) -> str:
    return TEMPLATES.render(f"broadcast.headline.{kind}", lang, name="@").split("@")[0]


def test_a_replayed_incident_reaches_confirmed_email_and_sms_subscribers_once(
    world: World,
) -> None:
    smtp, twilio = world.smtp, world.twilio
    # --- subscribe and confirm -------------------------------------------------------
    for email, lang in ((EMAIL_ES, "es"), (EMAIL_EN, "en")):
        assert world.post("/api/subscribe", json={"email": email, "lang": lang})[0] == 202
    for phone, lang in ((PHONE_EN, "en"), (PHONE_ES, "es")):
        assert world.post("/api/subscribe", json={"phone": phone, "lang": lang})[0] == 202
    # someone who never confirms gets nothing but the confirmation
    assert world.post("/api/subscribe", json={"email": "never@example.com"})[0] == 202
    for email in (EMAIL_ES, EMAIL_EN):
        wait_until(lambda e=email: bool(smtp.to(e)), f"confirmation to {email}")  # type: ignore[misc]
        link = re.search(r"\S+/subscribe/confirm\?t=\S+", text_of(smtp.to(email)[0]))
        assert link is not None
        token = parse_qs(urlsplit(link.group(0)).query)["t"][0]
        response = world.stack.client.post(
            world.stack.app_url + "/subscribe/confirm", data={"t": token}
        )
        assert response.status_code == 200
    for phone in (PHONE_EN, PHONE_ES):
        wait_until(lambda p=phone: bool(twilio.accepted(p)), f"code to {phone}")  # type: ignore[misc]
        code = re.search(r"\b(\d{6})\b", twilio.accepted(phone)[0].body)
        assert code is not None
        status, answer = world.post(
            "/api/subscribe/confirm", json={"phone": phone, "code": code.group(1)}
        )
        assert status == 200, answer
    wait_until(lambda: bool(smtp.to("never@example.com")), "the unconfirmed confirmation")

    # --- replay: one message per update per subscriber ----------------------------------
    for step in range(2, world.replay.steps + 1):
        world.feed.show(step)
        body = squash(world.replay.update_at(step)["body"])
        kind = "resolved" if step == world.replay.steps else "update"
        for email, lang in ((EMAIL_ES, "es"), (EMAIL_EN, "en")):

            def arrived(email: str = email, body: str = body) -> bool:
                return any(body in squash(text_of(m)) for m in smtp.to(email))

            wait_until(arrived, f"{email} step {step}")
            [mail] = [m for m in smtp.to(email) if body in squash(text_of(m))]
            expected = plain(headline(kind, lang)).strip()
            assert str(mail["Subject"]).startswith(f"Northwind Bank: {expected}"), mail["Subject"]
            assert str(mail["List-Unsubscribe"]).startswith("<http")
            assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        for phone, lang in ((PHONE_EN, "en"), (PHONE_ES, "es")):
            expected = plain(headline(kind, lang)).strip()

            def texted(phone: str = phone, expected: str = expected, n: int = step - 1) -> bool:
                news = [c for c in twilio.accepted(phone) if c.body.startswith(expected[:12])]
                return len(news) >= 1 and len(twilio.accepted(phone)) >= n + 1

            wait_until(texted, f"{phone} step {step}")
    time.sleep(2)  # anything sent twice would arrive by now
    updates = world.replay.steps - 1
    for email, lang in ((EMAIL_ES, "es"), (EMAIL_EN, "en")):
        news = [
            m for m in smtp.to(email) if not str(m["Subject"]).endswith(("updates", "servicio"))
        ]
        news = [m for m in smtp.to(email) if "/subscribe/confirm" not in text_of(m)]
        assert len(news) == updates, [m["Subject"] for m in news]
        assert all(m["Content-Language"] == lang for m in news)
        assert len({m["Message-ID"] for m in news}) == updates
    for phone, lang in ((PHONE_EN, "en"), (PHONE_ES, "es")):
        texts = [c.body for c in twilio.accepted(phone)][1:]  # after the code
        assert len(texts) == updates, texts
        footer = TEMPLATES.render("broadcast.footer.sms", lang)
        assert all(t.endswith(footer) for t in texts)
    assert smtp.to("never@example.com") and len(smtp.to("never@example.com")) == 1
    # the provider's rate limit was respected: no request was refused with a 429
    assert not [c for c in twilio.calls if c.status == 429]

    # --- leaving: one click by email, STOP/BAJA by SMS -----------------------------------
    last = [m for m in smtp.to(EMAIL_EN) if "/subscribe/confirm" not in text_of(m)][-1]
    unsubscribe = str(last["List-Unsubscribe"]).strip("<>")
    path = unsubscribe.split("/", 3)[3]
    response = world.stack.client.post(
        f"{world.stack.app_url}/{path}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    params = {"From": PHONE_ES, "To": FROM, "Body": "BAJA", "MessageSid": "SM9"}
    url = world.stack.app_url + INBOUND_PATH
    signature = twilio_signature(AUTH_TOKEN, url, params)
    response = world.stack.client.post(
        url,
        content=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: signature},
    )
    assert response.status_code == 200
    engine = Database.open(f"sqlite:///{world.stack.data_dir / 'faro.db'}").engine
    subs = SubscriptionStore(engine)
    left = [subs.get(f"email:{EMAIL_EN}"), subs.get(f"sms:{PHONE_ES}")]
    assert all(s is not None and not s.active for s in left)
    stay = [subs.get(f"email:{EMAIL_ES}"), subs.get(f"sms:{PHONE_EN}")]
    assert all(s is not None and s.active for s in stay)
    engine.dispose()


def test_killed_mid_broadcast_to_500_email_and_500_sms_then_restarted(world: World) -> None:
    stack, smtp, twilio = world.stack, world.smtp, world.twilio
    engine = Database.open(f"sqlite:///{stack.data_dir / 'faro.db'}").engine
    subscriptions, outbox = SubscriptionStore(engine), Outbox(engine)
    emails = [f"crash{i:03d}@example.com" for i in range(500)]
    phones = [f"+447400{i:06d}" for i in range(500)]
    subscriptions.add_many(
        [(Recipient(f"email:{e}", "email", e, "en"), ()) for e in emails]
        + [(Recipient(f"sms:{p}", "sms", p, "es"), ()) for p in phones]
    )
    broadcaster = Broadcaster(
        live=LiveStatus(), subscriptions=subscriptions, outbox=outbox, composer=Composer(TEMPLATES)
    )
    texts = {"en": "Branches open until 8 pm today.", "es": "Las oficinas abren hasta las 20 h."}
    bid = broadcaster.announce(texts, created_by="test", key="announce:contact-crash")
    assert bid is not None

    def mails() -> Counter[str]:
        # (the subject, not the parsed body: this runs often and must not slow the fakes)
        return Counter(
            r
            for m in list(smtp.received)
            if m.message["Subject"] == "Northwind Bank: Announcement"
            for r in m.rcpt_tos
        )

    def sms() -> Counter[str]:
        return Counter(c.to for c in twilio.accepted() if "oficinas abren" in c.body)

    wait_until(lambda: sum(mails().values()) >= 60 and sum(sms().values()) >= 10, "some of each")
    assert stack.app is not None
    stack.app.send_signal(signal.SIGKILL)
    stack.app.wait(timeout=10)
    time.sleep(0.5)  # what was on the wire lands
    before_mail, before_sms = sum(mails().values()), sum(sms().values())
    assert before_mail < 500 and before_sms < 500, (before_mail, before_sms)

    stack.start_app()
    deadline = time.monotonic() + 120
    while not all(p.done for p in outbox.progress(broadcast_id=bid)):
        assert time.monotonic() < deadline, outbox.progress(broadcast_id=bid)
        time.sleep(0.5)
    rows = outbox.audit(broadcast_id=bid, limit=5000)
    mine = [
        r
        for r in rows
        if r.conversation_id.removeprefix("email:").removeprefix("sms:")
        in set(emails) | set(phones)
    ]
    assert Counter(r.state for r in mine) == {"sent": 1000}
    interrupted = {r.conversation_id for r in mine if r.interrupted}
    assert interrupted  # the kill really caught deliveries half-way
    got_mail, got_sms = mails(), sms()
    assert set(emails) <= set(got_mail) and set(phones) <= set(got_sms)  # nothing lost
    twice = [f"email:{e}" for e, n in got_mail.items() if n > 1 and e in emails]
    twice += [f"sms:{p}" for p, n in got_sms.items() if n > 1 and p in phones]
    assert all(n <= 2 for n in (*got_mail.values(), *got_sms.values()))
    assert set(twice) <= interrupted, set(twice) - interrupted  # a duplicate only if interrupted
    engine.dispose()
