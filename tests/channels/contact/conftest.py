"""The real app (build_services, create_app) with email and SMS on: a real SMTP server and
the Twilio fake on loopback, a real SQLite database, the delivery worker running."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.broadcast.announce import new_key
from bot.services import AppServices
from bot.settings import Settings
from bot.wiring import build_services
from faq_index import Encoder, load_encoder
from tests.faq_store.builders import sqlite_url, write_seed
from tests.helpers.smtp_server import SmtpServer, text_of
from tests.helpers.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio

REPO = Path(__file__).resolve().parents[3]
PUBLIC = "https://updates.northwind.example"
_LINK = re.compile(r"https?://\S+/subscribe/confirm\?t=\S+")
_CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return load_encoder("hashing")


@dataclass
class World:
    client: TestClient
    services: AppServices
    smtp: SmtpServer
    twilio: FakeTwilio

    def subscribe(self, **body: object) -> tuple[int, dict[str, object]]:
        response = self.client.post("/api/subscribe", json=body)
        return response.status_code, response.json()

    def wait(self, check: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def confirmation_link(self, address: str) -> str:
        self.wait(lambda: bool(self.smtp.to(address)), f"a confirmation to {address}")
        match = _LINK.search(text_of(self.smtp.to(address)[-1]))
        assert match, text_of(self.smtp.to(address)[-1])
        return match.group(0)

    def confirm_email(self, address: str) -> None:
        link = self.confirmation_link(address)
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC
        token = parse_qs(parts.query)["t"][0]
        response = self.client.post("/subscribe/confirm", data={"t": token})
        assert response.status_code == 200, response.text

    def sms_code(self, number: str) -> str:
        self.wait(lambda: bool(self.twilio.accepted(number)), f"a code to {number}")
        match = _CODE.search(self.twilio.accepted(number)[-1].body)
        assert match
        return match.group(1)

    def announce(self, en: str, es: str) -> int:
        bid = self.services.broadcaster.announce(
            {"en": en, "es": es}, created_by="test", key=new_key()
        )
        assert bid is not None
        return bid

    def wait_done(self, bid: int) -> None:
        outbox = self.services.broadcaster.outbox
        self.wait(lambda: all(p.done for p in outbox.progress(broadcast_id=bid)), "delivery")


def settings_for(tmp_path: Path, smtp: SmtpServer, twilio: FakeTwilio, **extra: str) -> Settings:
    return Settings.from_env(env_for(tmp_path, smtp, twilio, **extra))


def env_for(tmp_path: Path, smtp: SmtpServer, twilio: FakeTwilio, **extra: str) -> dict[str, str]:
    """The app's environment with email and SMS on (what ``faro`` commands read too)."""
    return {
        "FARO_PROJECT_DIR": str(REPO),
        "FARO_DATA_DIR": str(tmp_path / "data"),
        "FARO_DATABASE_URL": sqlite_url(tmp_path),
        "FARO_FAQ": str(write_seed(tmp_path)),
        "FARO_RASA_URL": "http://127.0.0.1:9",
        "FARO_SMTP_URL": smtp.url,
        "FARO_EMAIL_FROM": "updates@northwind.example",
        "FARO_SMTP_RATE": "50",
        "FARO_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "FARO_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "FARO_TWILIO_FROM": FROM,
        "FARO_TWILIO_API_URL": twilio.url,
        "FARO_TWILIO_RATE": "20",
        "FARO_PUBLIC_URL": PUBLIC,
        **extra,
    }


@contextlib.contextmanager
def running_world(tmp_path: Path, encoder: Encoder, **extra: str) -> Iterator[World]:
    """The app with email and SMS on, its SMTP server and Twilio fake."""
    with SmtpServer().running() as smtp, FakeTwilio(max_per_s=20).running() as twilio:
        settings = settings_for(tmp_path, smtp, twilio, **extra)
        services = build_services(settings, encoder=encoder)
        try:
            with TestClient(create_app(services), base_url=PUBLIC) as client:
                world = World(client, services, smtp, twilio)
                # Started: the status page has been read once (the subscribe form
                # lists its components; on a busy machine the first read can lag).
                live = services.broadcaster.live
                if live is not None:
                    world.wait(lambda: live.snapshot is not None, "the first status read")
                yield world
        finally:
            services.store.dispose()


@pytest.fixture
def world(tmp_path: Path, encoder: Encoder) -> Iterator[World]:
    with running_world(tmp_path, encoder, FARO_SUBSCRIBE_RATE_PER_IP="200") as running:
        yield running


def only(messages: list[EmailMessage]) -> EmailMessage:
    assert len(messages) == 1, [m["Subject"] for m in messages]
    return messages[0]
