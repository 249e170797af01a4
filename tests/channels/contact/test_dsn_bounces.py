"""Bounces mailed back later (RFC 3464 DSNs) posted to ``POST /email/bounces``: a permanent
failure retires the address, shows on the delivery's audit row and in the subscriber's audit;
a delay changes nothing; a wrong token or a body that is no DSN is refused, changing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.contact.store import ContactStore
from bot.channels.email.bounces import read_dsn
from faq_index import Encoder
from tests.channels.contact.conftest import World, running_world
from tests.helpers.smtp_server import text_of

TOKEN = "dsn-test-token-0123456789"


def dsn(recipient: str, *, action: str, status: str, message_id: str) -> bytes:
    """A bounce as Postfix mails it back (multipart/report, delivery-status, the headers)."""
    return (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        "To: updates@northwind.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n'
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "This is the mail system at host mx.example.net. Your message could not be delivered.\r\n"
        "\r\n"
        "--B1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n"
        "Arrival-Date: Sat,  5 Dec 2026 21:30:00 +0000 (UTC)\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; {status[0]}50 {status} <{recipient}>: Recipient address\r\n"
        "    rejected: User unknown in virtual mailbox table\r\n"
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        f"Message-ID: {message_id}\r\n"
        "Subject: Northwind Bank: Announcement\r\n"
        "\r\n"
        "--B1--\r\n"
    ).encode()


@pytest.fixture
def world(tmp_path: Path, encoder: Encoder) -> Iterator[World]:
    with running_world(
        tmp_path, encoder, FARO_SUBSCRIBE_RATE_PER_IP="200", FARO_EMAIL_BOUNCE_TOKEN=TOKEN
    ) as running:
        yield running


def test_the_parser_reads_recipients_and_the_returned_message_id() -> None:
    [bounce], original = read_dsn(
        dsn("Late@Example.com", action="failed", status="5.1.1", message_id="<faro.x@n.example>")
    )
    assert bounce.hard and bounce.address == "Late@Example.com" and bounce.status == "5.1.1"
    assert "User unknown" in bounce.diagnostic and original == "<faro.x@n.example>"
    [delay], _ = read_dsn(dsn("a@example.com", action="delayed", status="4.4.1", message_id="<m>"))
    assert not delay.hard


def _delivered(world: World, address: str) -> tuple[int, str]:
    world.subscribe(email=address, lang="en")
    world.confirm_email(address)
    bid = world.announce("Heads up.", "Atención.")
    world.wait_done(bid)
    [mail] = [m for m in world.smtp.to(address) if "Heads up" in text_of(m)]
    return bid, str(mail["Message-ID"])


def test_a_later_hard_bounce_retires_and_shows_on_the_row(world: World) -> None:
    bid, message_id = _delivered(world, "late@example.com")
    response = world.client.post(
        "/email/bounces",
        content=dsn("late@example.com", action="failed", status="5.1.1", message_id=message_id),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "message/rfc822"},
    )
    assert response.status_code == 200 and response.json() == {"hard_bounces": 1, "retired": 1}
    sub = world.services.broadcaster.subscriptions.get("email:late@example.com")
    assert sub is not None and not sub.active
    assert (sub.retired_reason or "").startswith("hard bounce (DSN): 5.1.1")
    [row] = world.services.broadcaster.outbox.audit(broadcast_id=bid)
    assert row.state == "retired" and "User unknown" in (row.error or "")
    events = ContactStore(world.services.store.engine).events("email", "late@example.com")
    assert [e.event for e in events][-1] == "bounced"


def test_delays_bad_tokens_and_non_dsns_change_nothing(world: World) -> None:
    bid, message_id = _delivered(world, "slow@example.com")
    body = dsn("slow@example.com", action="failed", status="5.1.1", message_id=message_id)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = world.client.post("/email/bounces", content=body, headers=headers)
        assert response.status_code == 403
    auth = {"Authorization": f"Bearer {TOKEN}"}
    delayed = dsn("slow@example.com", action="delayed", status="4.4.1", message_id=message_id)
    response = world.client.post("/email/bounces", content=delayed, headers=auth)
    assert response.status_code == 200 and response.json() == {"hard_bounces": 0, "retired": 0}
    plain = b"From: a@example.com\r\nSubject: hello\r\n\r\nnot a bounce\r\n"
    response = world.client.post("/email/bounces", content=plain, headers=auth)
    assert response.status_code == 400 and "delivery status" in response.json()["error"]
    sub = world.services.broadcaster.subscriptions.get("email:slow@example.com")
    assert sub is not None and sub.active
    [row] = world.services.broadcaster.outbox.audit(broadcast_id=bid)
    assert row.state == "sent"


def test_off_without_a_token(tmp_path: Path, encoder: Encoder) -> None:
    with running_world(tmp_path, encoder) as running:
        body = dsn("x@example.com", action="failed", status="5.1.1", message_id="<m>")
        response = running.client.post(
            "/email/bounces", content=body, headers={"Authorization": "Bearer "}
        )
        assert response.status_code in (404, 405)
