"""The contact store and the service on SQLite and the real PostgreSQL: requests, the
per-address limit, codes, confirmation once, the audit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import SubscriptionStore
from bot.channels.contact.links import Links
from bot.channels.contact.service import ContactError, ContactService
from bot.channels.contact.store import ContactStore, TooManyRequests
from bot.db import Database
from bot.templates import TemplateStore
from tests.faq_store.builders import postgres_schema, sqlite_url

TEMPLATES = TemplateStore.from_paths([Path(__file__).resolve().parents[3] / "data/templates"])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        db = Database.open(sqlite_url(tmp_path))
        yield db.engine
        db.dispose()
    else:
        with postgres_schema() as url:
            db = Database.open(url)
            yield db.engine
            db.dispose()


def service(engine: sa.Engine) -> ContactService:
    return ContactService(
        store=ContactStore(engine),
        subscriptions=SubscriptionStore(engine),
        outbox=Outbox(engine),
        templates=TEMPLATES,
        links=Links(secret="k", public_url="https://u.example", ttl_s=600),
        code_key="code-key",
        channels=["email", "sms"],
        per_address_per_hour=2,
    )


def test_requests_are_limited_per_address(engine: sa.Engine) -> None:
    store = ContactStore(engine)
    args = {"channel": "email", "lang": "en", "components": (), "ttl_s": 60, "per_hour": 2}
    first = store.add_request(address="a@example.com", secret="n1", **args)  # type: ignore[arg-type]
    store.add_request(address="a@example.com", secret="n2", **args)  # type: ignore[arg-type]
    with pytest.raises(TooManyRequests):
        store.add_request(address="a@example.com", secret="n3", **args)  # type: ignore[arg-type]
    store.add_request(address="b@example.com", secret="n4", **args)  # type: ignore[arg-type]
    latest = store.latest("email", "a@example.com")
    assert latest is not None and latest.secret == "n2" and latest.id > first
    assert store.mark_confirmed(first) and not store.mark_confirmed(first)
    assert [e.event for e in store.events("email", "a@example.com")] == ["requested"] * 2


def test_an_sms_code_confirms_once_and_queues_nothing_else(engine: sa.Engine) -> None:
    contacts = service(engine)
    contacts.request(phone="+34 600 000 001", lang="es", components=["Cards"])
    [row] = Outbox(engine).audit(conversation_id="sms:+34600000001")
    assert row.kind == "confirmation" and row.channel == "sms" and row.state == "pending"
    code = row.text.split("código es ")[1][:6]
    with pytest.raises(ContactError, match="not right"):
        contacts.confirm_sms("+34600000001", "999999" if code != "999999" else "888888")
    done = contacts.confirm_sms("+34 600 000 001", code)
    assert (done.channel, done.address, done.lang) == ("sms", "+34600000001", "es")
    sub = SubscriptionStore(engine).get("sms:+34600000001")
    assert sub is not None and sub.active and sub.components == ("cards",)
    with pytest.raises(ContactError, match="no code is waiting"):
        contacts.confirm_sms("+34600000001", code)  # used: a new request is needed
    assert Outbox(engine).progress() == []  # confirmations are not broadcasts
    events = [e.event for e in ContactStore(engine).events("sms", "+34600000001")]
    assert events == ["requested", "wrong_code", "confirmed"]
