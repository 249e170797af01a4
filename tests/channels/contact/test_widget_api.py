"""What the chat widget's inline form uses: ``GET /api/subscribe/options``, CORS for the
sites the chat is allowed on (others refused, nothing stored), refusals in the asked language
with the same ``code`` in every language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.contact.store import ContactStore
from faq_index import Encoder
from tests.channels.contact.conftest import World, running_world

BANK = "https://www.northwind.example"


@pytest.fixture
def world(tmp_path: Path, encoder: Encoder) -> Iterator[World]:
    with running_world(
        tmp_path, encoder, FARO_SUBSCRIBE_RATE_PER_IP="200", FARO_WEB_ALLOWED_ORIGINS=BANK
    ) as running:
        yield running


def test_options_name_the_channels_and_the_status_pages_components(world: World) -> None:
    response = world.client.get("/api/subscribe/options")
    assert response.status_code == 200
    body = response.json()
    assert body["channels"] == ["email", "sms"]
    live = world.services.broadcaster.live.snapshot
    assert live is not None
    assert body["components"] == [c.name for c in live.leaf_components()]
    assert "Card payments" in body["components"]


def test_an_allowed_site_gets_cors_headers_and_others_are_refused(world: World) -> None:
    preflight = world.client.options(
        "/api/subscribe",
        headers={"Origin": BANK, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == BANK
    assert "POST" in preflight.headers["access-control-allow-methods"]
    ok = world.client.post(
        "/api/subscribe", json={"email": "ana@example.com", "lang": "en"}, headers={"Origin": BANK}
    )
    assert ok.status_code == 202 and ok.headers["access-control-allow-origin"] == BANK
    # a refusal carries the CORS headers too, or the widget could not show why
    bad = world.client.post(
        "/api/subscribe", json={"email": "ana@", "lang": "en"}, headers={"Origin": BANK}
    )
    assert bad.status_code == 400 and bad.headers["access-control-allow-origin"] == BANK
    evil = world.client.post(
        "/api/subscribe",
        json={"email": "victim@example.com", "lang": "en"},
        headers={"Origin": "https://evil.example"},
    )
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
    assert ContactStore(world.services.store.engine).events("email", "victim@example.com") == []


@pytest.mark.parametrize(
    ("body", "code", "en", "es"),
    [
        ({"email": "ana@@x"}, "address", "not a valid email address", "correo electrónico no"),
        ({"phone": "612345678"}, "address", "start the number with +", "prefijo del país"),
        ({"email": "a@example.com", "components": ["Nope"]}, "components", "unknown", "Elige"),
        ({}, "one_of", "give either", "Escribe un correo"),
    ],
)
def test_refusals_in_the_asked_language(
    world: World, body: dict[str, object], code: str, en: str, es: str
) -> None:
    for lang, says in (("en", en), ("es", es)):
        response = world.client.post("/api/subscribe", json={**body, "lang": lang})
        assert response.status_code == 400
        assert response.json()["code"] == code and says in response.json()["error"], lang


def test_a_wrong_code_is_refused_in_spanish(world: World) -> None:
    world.subscribe(phone="+34612345678", lang="es")
    code = world.sms_code("+34612345678")
    wrong = "000000" if code != "000000" else "111111"
    response = world.client.post(
        "/api/subscribe/confirm", json={"phone": "+34612345678", "code": wrong, "lang": "es"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Ese código no es correcto.", "code": "wrong_code"}
    assert world.services.broadcaster.subscriptions.get("sms:+34612345678") is None
