"""Staff see why an email or SMS did not arrive: a hard bounce (SMTP 550 at send time) and
Twilio's 21610 (the number replied STOP) appear in the broadcast's delivery audit with their
reasons, and both retire the address; the subscriber's page says so."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from faq_index import Encoder
from tests.channels.contact.conftest import World, running_world
from tests.channels.contact.test_sms_flow import reply, subscribe_sms

PASSWORD = "correct horse battery staple"


@pytest.fixture
def world(tmp_path: Path, encoder: Encoder) -> Iterator[World]:
    with running_world(
        tmp_path, encoder, FARO_SUBSCRIBE_RATE_PER_IP="200", FARO_ADMIN_PASSWORD=PASSWORD
    ) as running:
        yield running


def _login(world: World) -> None:
    page = world.client.get("/admin/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    response = world.client.post(
        "/admin/login", data={"csrf": token.group(1), "name": "Ana", "password": PASSWORD}
    )
    assert response.status_code == 200 and response.url.path == "/admin"


def test_bounces_and_failures_show_with_reasons_and_retire(world: World) -> None:
    world.subscribe(email="gone@example.com", lang="en")
    world.confirm_email("gone@example.com")
    world.subscribe(email="here@example.com", lang="en")
    world.confirm_email("here@example.com")
    world.subscribe(phone="+34630000001", lang="es")
    code = world.sms_code("+34630000001")
    assert (
        world.client.post(
            "/api/subscribe/confirm", json={"phone": "+34630000001", "code": code}
        ).status_code
        == 200
    )
    world.smtp.bounce.add("gone@example.com")
    world.twilio.stopped.add("+34630000001")
    bid = world.announce("Heads up.", "Atención.")
    world.wait_done(bid)

    _login(world)
    page = html.unescape(world.client.get(f"/admin/broadcasts/{bid}").text)
    failures = page.split('class="failures"', 1)[1].split("</table>", 1)[0]
    assert "email:gone@example.com" in failures and "550 5.1.1 User unknown" in failures
    assert "hard bounce" in failures
    assert "sms:+34630000001" in failures and "21610" in failures
    assert "here@example.com" not in failures  # delivered: not a failure
    subs = world.services.broadcaster.subscriptions
    for conversation in ("email:gone@example.com", "sms:+34630000001"):
        sub = subs.get(conversation)
        assert sub is not None and not sub.active
    here = subs.get("email:here@example.com")
    assert here is not None and here.active
    # the subscriber's own page: stopped, and why
    mine = html.unescape(
        world.client.get(
            "/admin/deliveries", params={"conversation": "email:gone@example.com"}
        ).text
    )
    assert "hard bounce: 550 5.1.1 User unknown" in mine
    # its subscribe history: asked, confirmed, bounced (with the server's reason)
    history = mine.split('class="contact-events"', 1)[1].split("</table>", 1)[0]
    assert 'data-event="requested"' in history and 'data-event="confirmed"' in history
    assert "confirmation sent" in history
    assert 'data-event="bounced"' in history and "550 5.1.1 User unknown" in history
    number = html.unescape(
        world.client.get("/admin/deliveries", params={"conversation": "sms:+34630000001"}).text
    )
    assert "refused by the SMS provider" in number and "21610" in number
    # a number that left by replying BAJA shows how it left, in the Spanish console
    subscribe_sms(world, "+34630000002", "es")
    assert reply(world, "+34630000002", "Baja") == 200
    world.client.get("/admin/broadcasts?ui=es")
    left = html.unescape(
        world.client.get("/admin/deliveries", params={"conversation": "sms:+34630000002"}).text
    )
    history = left.split('class="contact-events"', 1)[1].split("</table>", 1)[0]
    assert "Historial de la suscripción" in left
    assert 'data-event="unsubscribed"' in history and "baja" in history
    assert "SMS reply Baja" in history
    # a retired address gets nothing more
    again = world.announce("Second.", "Segundo.")
    world.wait_done(again)
    rows = world.services.broadcaster.outbox.audit(broadcast_id=again)
    assert {r.conversation_id for r in rows} == {"email:here@example.com"}
