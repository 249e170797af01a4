"""SMS in one app, through the Twilio fake: code by SMS -> confirm -> an update within the
segment budget -> STOP/BAJA by signed webhook; 21610 retires; 429s are honoured."""

from __future__ import annotations

from urllib.parse import urlencode

from bot.channels.contact.store import ContactStore
from bot.channels.sms.inbound import INBOUND_PATH, SIGNATURE_HEADER, twilio_signature
from bot.channels.sms.segments import count
from tests.channels.contact.conftest import PUBLIC, World
from tests.helpers.twilio_fake import AUTH_TOKEN, FROM

NUMBER = "+34612345678"


def reply(world: World, number: str, body: str, *, token: str = AUTH_TOKEN) -> int:
    params = {"MessageSid": "SM1", "From": number, "To": FROM, "Body": body}
    signature = twilio_signature(token, PUBLIC + INBOUND_PATH, params)
    response = world.client.post(
        INBOUND_PATH,
        content=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: signature},
    )
    return response.status_code


def subscribe_sms(world: World, number: str, lang: str) -> None:
    status, body = world.subscribe(phone=number, lang=lang)
    assert status == 202 and body["channel"] == "sms", body
    code = world.sms_code(number)
    response = world.client.post("/api/subscribe/confirm", json={"phone": number, "code": code})
    assert response.status_code == 200 and response.json()["status"] == "subscribed"


def test_code_confirm_update_and_baja(world: World) -> None:
    status, _ = world.subscribe(phone="+34 612 34 56 78", lang="es")
    assert status == 202
    code = world.sms_code(NUMBER)
    [sent] = world.twilio.accepted(NUMBER)
    assert sent.sender == FROM and "Northwind Bank" in sent.body
    subs = world.services.broadcaster.subscriptions
    assert subs.get(f"sms:{NUMBER}") is None  # nothing before the code comes back
    wrong = "000000" if code != "000000" else "111111"
    response = world.client.post("/api/subscribe/confirm", json={"phone": NUMBER, "code": wrong})
    assert response.status_code == 400 and response.json()["code"] == "wrong_code"
    assert subs.get(f"sms:{NUMBER}") is None
    response = world.client.post("/api/subscribe/confirm", json={"phone": NUMBER, "code": code})
    assert response.status_code == 200
    sub = subs.get(f"sms:{NUMBER}")
    assert sub is not None and sub.active and sub.lang == "es"

    long_es = "Las oficinas cierran a las 18 h por la incidencia. " * 12
    bid = world.announce("Branches close early.", long_es)
    world.wait_done(bid)
    [update] = [c for c in world.twilio.accepted(NUMBER) if "oficinas" in c.body]
    segments = count(update.body)
    assert segments.encoding == "UCS-2" and segments.segments <= 3  # the template's budget
    assert update.body.endswith("Responde BAJA para no recibir más avisos")
    assert "…" in update.body and "📣" not in update.body

    assert reply(world, NUMBER, " baja ") == 200
    sub = subs.get(f"sms:{NUMBER}")
    assert sub is not None and not sub.active and "BAJA" in (sub.retired_reason or "").upper()
    events = [e.event for e in ContactStore(world.services.store.engine).events("sms", NUMBER)]
    assert events == ["requested", "wrong_code", "confirmed", "unsubscribed"]
    bid = world.announce("Again.", "Otra vez.")
    world.wait_done(bid)
    assert not [c for c in world.twilio.accepted(NUMBER) if "Otra vez" in c.body]


def test_a_reply_without_a_valid_signature_changes_nothing(world: World) -> None:
    subscribe_sms(world, "+34622222222", "en")
    assert reply(world, "+34622222222", "STOP", token="wrong-token") == 403
    response = world.client.post(
        INBOUND_PATH,
        content="From=%2B34622222222&Body=STOP",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403
    assert reply(world, "+34622222222", "hello there") == 200  # not a stop word
    sub = world.services.broadcaster.subscriptions.get("sms:+34622222222")
    assert sub is not None and sub.active


def test_21610_retires_the_number_and_429s_are_honoured(world: World) -> None:
    numbers = [f"+3463000000{i}" for i in range(6)]
    for number in numbers:
        subscribe_sms(world, number, "en")
    world.twilio.stopped.add(numbers[0])  # replied STOP to Twilio directly
    world.twilio.fail_next_429 = 2
    bid = world.announce("Cards work again.", "Las tarjetas vuelven a funcionar.")
    world.wait_done(bid)
    rows = {r.conversation_id: r for r in world.services.broadcaster.outbox.audit(broadcast_id=bid)}
    gone = rows[f"sms:{numbers[0]}"]
    assert gone.state == "retired" and gone.error is not None and "21610" in gone.error
    sub = world.services.broadcaster.subscriptions.get(f"sms:{numbers[0]}")
    assert sub is not None and not sub.active
    for number in numbers[1:]:
        assert rows[f"sms:{number}"].state == "sent"
        assert len([c for c in world.twilio.accepted(number) if "Cards work" in c.body]) == 1
    limited = [c for c in world.twilio.calls if c.status == 429]
    assert len(limited) >= 2
    # after each 429 the sender paused (1 s without Retry-After) before the next request;
    # requests already on their way when the 429 came back (up to its concurrency of 4
    # less the limited one) may still arrive just after it
    first = min(c.at for c in limited)
    after = [c.at - first for c in world.twilio.calls if c.at > first and c.status != 429]
    in_flight = [t for t in after if t < 0.1]
    resumed = [t for t in after if t >= 0.1]
    assert len(in_flight) <= 3, after
    assert resumed and min(resumed) >= 0.9, after
