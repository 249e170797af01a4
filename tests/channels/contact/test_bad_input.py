"""Bad input to the subscribe API gets a clear 4xx and changes nothing; limits stop mail bombs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.broadcast.tables import outbox, subscriptions
from bot.channels.contact.service import ContactError
from bot.channels.contact.tables import contact_requests
from bot.channels.contact.wiring import contact_service
from faq_index import Encoder
from tests.channels.contact.conftest import World, running_world


def rows(world: World) -> tuple[int, int, int]:
    with world.services.store.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (contact_requests, subscriptions, outbox)
        )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"email": "not-an-address", "lang": "en"}, "not a valid email address"),
        ({"email": "a@b.example\r\nBcc: victim@example.com"}, "line break"),
        ({"email": "a@example.com\nBcc: x@example.com"}, "line break"),
        ({"email": "Mallory <m@example.com>"}, "not a valid email address"),
        ({"email": "m@example.com, other@example.com"}, "not a valid email address"),
        ({"email": "x" * 250 + "@example.com"}, "longer than 254"),
        ({"email": ""}, "give an email address"),
        ({"email": 12}, "email must be a string"),
        ({"phone": "612345678"}, "country code"),
        ({"phone": "+34 12"}, "not a valid phone number"),
        ({"phone": "+34 912 345 678"}, "not a mobile number"),
        ({"phone": "+34612345678\r\n"}, "line break"),
        ({"phone": "call me"}, "country code"),
        ({"email": "a@example.com", "phone": "+34612345678"}, "either an email"),
        ({}, "either an email"),
        ({"email": "a@example.com", "lang": "fr"}, "lang must be one of en, es"),
        ({"email": "a@example.com", "components": "cards"}, "components must be a list"),
        ({"email": "a@example.com", "components": [1]}, "components must be a list"),
        ({"email": "a@example.com", "components": ["x"] * 21}, "at most 20"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_message(
    world: World, body: dict[str, Any], says: str
) -> None:
    before = rows(world)
    response = world.client.post("/api/subscribe", json=body)
    assert response.status_code == 400, response.text
    assert says in response.json()["error"]
    assert rows(world) == before


def test_not_json_and_oversized_bodies_are_refused(world: World) -> None:
    assert world.client.post("/api/subscribe", content=b"email=a@b.c").status_code == 400
    big = {"email": "a@example.com", "pad": "x" * 10_000}
    assert world.client.post("/api/subscribe", json=big).status_code == 413
    assert rows(world) == (0, 0, 0)


def test_per_address_limit_stops_repeated_confirmations(world: World) -> None:
    for _ in range(3):
        assert world.subscribe(email="target@example.com")[0] == 202
    status, body = world.subscribe(email="TARGET@example.com")  # same address, other spelling
    assert status == 429 and "too many confirmations" in str(body["error"])
    world.wait(lambda: len(world.smtp.to("target@example.com")) == 3, "three confirmations")
    assert world.subscribe(email="other@example.com")[0] == 202


def test_per_ip_limit(tmp_path: Path, encoder: Encoder) -> None:
    with running_world(tmp_path, encoder, FARO_SUBSCRIBE_RATE_PER_IP="4") as world:
        codes = [world.subscribe(email=f"u{i}@example.com")[0] for i in range(6)]
        assert codes[:4] == [202] * 4 and codes[4:] == [429, 429]
        response = world.client.post("/api/subscribe", json={"email": "z@example.com"})
        assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
        assert rows(world)[0] == 4


def test_wrong_codes_run_out(world: World) -> None:
    assert world.subscribe(phone="+34655555555")[0] == 202
    code = world.sms_code("+34655555555")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        r = world.client.post(
            "/api/subscribe/confirm", json={"phone": "+34655555555", "code": wrong}
        )
        assert r.status_code == 400
    r = world.client.post("/api/subscribe/confirm", json={"phone": "+34655555555", "code": code})
    assert r.status_code == 429 and "ask for a new one" in r.json()["error"]
    assert world.services.broadcaster.subscriptions.get("sms:+34655555555") is None
    for body in ({"phone": "+34655555555", "code": "12"}, {"phone": "+34655555555"}, {}):
        assert world.client.post("/api/subscribe/confirm", json=body).status_code == 400


def test_unknown_components_are_refused_when_the_status_page_names_them(world: World) -> None:
    contacts = contact_service(world.services.settings, world.services)
    contacts._components = lambda: ["Card payments", "Online banking"]
    done = contacts.request(email="comp@example.com", components=["card  PAYMENTS"])
    assert done.channel == "email"
    pending = contacts.store.latest("email", "comp@example.com")
    assert pending is not None and pending.components == ("card payments",)
    with pytest.raises(ContactError, match="unknown component 'Teleportation'"):
        contacts.request(email="comp2@example.com", components=["Teleportation"])
    assert contacts.store.latest("email", "comp2@example.com") is None


def test_channels_that_are_off_say_so(tmp_path: Path, encoder: Encoder) -> None:
    with running_world(tmp_path, encoder, FARO_SMTP_URL="", FARO_TWILIO_AUTH_TOKEN="") as world:
        status, body = world.subscribe(email="a@example.com")
        assert status == 400 and "email updates are not available" in str(body["error"])
        status, body = world.subscribe(phone="+34612345678")
        assert status == 400 and "not available" in str(body["error"])
        page = world.client.get("/subscribe")
        assert page.status_code == 200 and "not available" in page.text
