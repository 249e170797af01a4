"""Email end to end in one app: subscribe -> confirmation over real SMTP -> confirm -> an
announcement as multipart mail -> one-click unsubscribe (RFC 8058) -> nothing more."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.channels.contact.links import LinkError, Links, links_for
from bot.channels.contact.store import ContactStore
from bot.channels.contact.tables import contact_requests
from bot.status.live import utc_now
from tests.channels.contact.conftest import PUBLIC, World, only
from tests.helpers.smtp_server import html_of, text_of


def test_subscribe_confirm_receive_and_unsubscribe_in_one_click(world: World) -> None:
    status, body = world.subscribe(email="Ana.Garcia@Example.COM", lang="es")
    assert status == 202 and body["status"] == "confirmation_sent" and body["channel"] == "email"
    address = "ana.garcia@example.com"  # one spelling per mailbox
    link = world.confirmation_link(address)
    confirmation = world.smtp.to(address)[-1]
    assert "Confirma" in str(confirmation["Subject"])
    # nothing is subscribed before the link is used, and opening it only shows a button
    subs = world.services.broadcaster.subscriptions
    assert subs.get(f"email:{address}") is None
    page = world.client.get(link.removeprefix(PUBLIC))
    assert page.status_code == 200 and 'method="post"' in page.text
    assert subs.get(f"email:{address}") is None
    world.confirm_email(address)
    sub = subs.get(f"email:{address}")
    assert sub is not None and sub.active and sub.lang == "es" and sub.channel == "email"

    bid = world.announce("Branches close at 6 pm.", "Las oficinas cierran a las 18 h.")
    world.wait_done(bid)
    mail = only([m for m in world.smtp.to(address) if "oficinas" in text_of(m)])
    assert mail["Subject"] == "Northwind Bank: Aviso"
    assert mail.get_content_type() == "multipart/alternative"
    assert "Las oficinas cierran a las 18 h." in html_of(mail)
    assert "#14324f" in html_of(mail) and "Northwind Bank" in html_of(mail)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(mail["List-Unsubscribe"]).strip("<>")
    assert unsubscribe.startswith(PUBLIC + "/subscribe/unsubscribe?t=")
    assert unsubscribe in text_of(mail) and unsubscribe.replace("&", "&amp;") in html_of(mail)
    assert str(mail["Message-ID"]).endswith("@northwind.example>")
    assert mail["Content-Language"] == "es"
    [row] = [r for r in world.services.broadcaster.outbox.audit(broadcast_id=bid)]
    assert (row.channel, row.state, row.conversation_id) == ("email", "sent", f"email:{address}")

    # one click, as a mail client does it (RFC 8058): POST, the token in the URL
    response = world.client.post(
        unsubscribe.removeprefix(PUBLIC), data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    sub = subs.get(f"email:{address}")
    assert sub is not None and not sub.active and sub.retired_reason == "one-click"
    events = [e.event for e in ContactStore(world.services.store.engine).events("email", address)]
    assert events == ["requested", "confirmed", "unsubscribed"]
    bid = world.announce("Second notice.", "Segundo aviso.")
    world.wait_done(bid)
    assert not [m for m in world.smtp.to(address) if "Segundo aviso" in text_of(m)]


def test_the_unsubscribe_page_asks_before_it_unsubscribes(world: World) -> None:
    world.subscribe(email="bo@example.com", lang="en")
    world.confirm_email("bo@example.com")
    subs = world.services.broadcaster.subscriptions
    url = links_for(world.services.settings).unsubscribe_url("email", "bo@example.com")
    page = world.client.get(url.removeprefix(PUBLIC))
    assert page.status_code == 200 and "Unsubscribe" in page.text
    sub = subs.get("email:bo@example.com")
    assert sub is not None and sub.active  # a link scanner's GET changes nothing
    token = parse_qs(urlsplit(url).query)["t"][0]
    done = world.client.post("/subscribe/unsubscribe", data={"t": token})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    sub = subs.get("email:bo@example.com")
    assert sub is not None and not sub.active and sub.retired_reason == "unsubscribe page"


def test_forged_and_expired_links_are_refused_and_change_nothing(world: World) -> None:
    world.subscribe(email="cy@example.com", lang="en")
    link = world.confirmation_link("cy@example.com")
    token = parse_qs(urlsplit(link).query)["t"][0]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    links = links_for(world.services.settings)
    other_purpose = links.unsubscribe_token("email", "cy@example.com")
    for bad in (forged, "", "not-a-token", other_purpose):
        page = world.client.post("/subscribe/confirm", data={"t": bad})
        assert page.status_code == 400 and "not valid" in page.text
        assert world.client.get("/subscribe/confirm", params={"t": bad}).status_code == 400
    one_click = world.client.post(
        "/subscribe/unsubscribe", params={"t": token}, data={"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 400 and "not valid" in one_click.json()["error"]
    subs = world.services.broadcaster.subscriptions
    assert subs.get("email:cy@example.com") is None
    # the request behind a genuine link has expired
    with world.services.store.engine.begin() as conn:
        conn.execute(contact_requests.update().values(expires_at=utc_now() - timedelta(seconds=1)))
    page = world.client.post("/subscribe/confirm", data={"t": token})
    assert page.status_code == 400 and "expired" in page.text
    assert subs.get("email:cy@example.com") is None


def test_a_link_older_than_its_time_to_live_has_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    links = Links(secret="s3cret", public_url=PUBLIC, ttl_s=3600)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3601)  # itsdangerous reads time.time()
    token = parse_qs(urlsplit(links.confirm_url(7, "nonce")).query)["t"][0]
    monkeypatch.setattr(time, "time", real)
    with pytest.raises(LinkError, match="expired") as caught:
        links.read_confirm(token)
    assert caught.value.code == "expired"
    fresh = parse_qs(urlsplit(links.confirm_url(7, "nonce")).query)["t"][0]
    assert links.read_confirm(fresh) == (7, "nonce")
    with pytest.raises(LinkError, match="not valid"):
        Links(secret="other", public_url=PUBLIC, ttl_s=3600).read_confirm(fresh)


def test_a_hard_bounce_retires_the_address_with_its_reason(world: World) -> None:
    world.subscribe(email="gone@example.com", lang="en")
    world.confirm_email("gone@example.com")
    world.smtp.bounce.add("gone@example.com")
    bid = world.announce("Heads up.", "Atención.")
    world.wait_done(bid)
    [row] = world.services.broadcaster.outbox.audit(broadcast_id=bid)
    assert row.state == "retired" and row.error is not None and "550" in row.error
    sub = world.services.broadcaster.subscriptions.get("email:gone@example.com")
    assert sub is not None and not sub.active and "hard bounce" in (sub.retired_reason or "")
