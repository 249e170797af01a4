"""The admin's broadcast pages over HTTP: subscribers, preview, send once, progress, audit."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.admin import admin_routes
from bot.broadcast.tables import broadcasts, outbox
from bot.broadcast.watcher import Broadcaster
from bot.channels.telegram.render import render_html
from bot.db import Database
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.store import AppStore
from bot.wiring import renderers
from faq_index import Encoder
from tests.admin.conftest import PASSWORD, Admin
from tests.faq_store.builders import sqlite_url, write_seed
from tests.helpers.broadcast_builders import (
    SUBSCRIBERS,
    broadcaster_for,
    expected_recipients,
    subscribe,
)

NEW = "/admin/broadcasts/new"
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
_PREVIEW_ROW = re.compile(
    r'<tr data-channel="(\w+)" data-lang="(\w+)">\s*<td>\w+</td><td>\w+</td>'
    r'<td class="num">(\d+)</td>\s*<td>(.*?)</td>',
    re.S,
)
_PRE = re.compile(r"<pre>(.*?)</pre>", re.S)


class BroadcastAdmin(Admin):
    """The admin browser, plus the broadcaster behind the pages."""

    broadcaster: Broadcaster

    def db(self) -> tuple[int, int]:
        """(broadcasts, outbox rows) in the database."""
        with self.app_store.engine.connect() as conn:
            return (
                conn.execute(sa.select(sa.func.count()).select_from(broadcasts)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one(),
            )

    def new_form(self) -> dict[str, str]:
        """The hidden fields of a fresh announcement form (csrf, key)."""
        return dict(_HIDDEN.findall(self.client.get(NEW).text))

    def submit(self, data: dict[str, str], *, form: dict[str, str] | None = None) -> Any:
        """POST the announcement form (with the hidden fields of a fresh form)."""
        base = form if form is not None else self.new_form()
        return self.client.post(NEW, data={**base, **data}, follow_redirects=False)


def make_broadcast_admin(
    tmp_path: Path, encoder: Encoder, *, components: tuple[str, ...] | None = None
) -> BroadcastAdmin:
    """The admin (broadcast pages on) over a fresh SQLite database with the sample subscribers."""
    app_store = AppStore(Database.open(sqlite_url(tmp_path)).engine)
    faq_store = FaqStore(app_store.engine)
    faq = FaqService.from_store(
        faq_store, encoder=encoder, store=app_store, seed_paths=[write_seed(tmp_path)]
    )
    broadcaster = (
        broadcaster_for(app_store.engine, components=components)
        if components is not None
        else broadcaster_for(app_store.engine)
    )
    subscribe(broadcaster.subscriptions)
    routes = admin_routes(
        password=PASSWORD,
        token=None,
        session_secret="test-session-secret",
        faq_store=faq_store,
        faq=faq,
        app_store=app_store,
        broadcaster=broadcaster,
    )
    client = TestClient(Starlette(routes=routes), base_url="https://testserver")
    admin = BroadcastAdmin(client, faq_store, faq, app_store)
    admin.broadcaster = broadcaster
    return admin


@pytest.fixture
def staff(tmp_path: Path, encoder: Encoder) -> Iterator[BroadcastAdmin]:
    """Signed in as Ana."""
    admin = make_broadcast_admin(tmp_path, encoder)
    assert admin.login().url.path == "/admin"
    yield admin
    admin.client.close()
    admin.app_store.dispose()


def _previews(page: str) -> dict[tuple[str, str], tuple[int, list[str]]]:
    """(channel, lang) -> (recipients, messages as sent) from a preview page."""
    return {
        (channel, lang): (int(count), [html.unescape(m) for m in _PRE.findall(cell)])
        for channel, lang, count, cell in _PREVIEW_ROW.findall(page)
    }


# -- access ------------------------------------------------------------------


def test_pages_need_a_session(tmp_path: Path, encoder: Encoder) -> None:
    admin = make_broadcast_admin(tmp_path, encoder)
    try:
        for path in (
            "/admin/broadcasts",
            NEW,
            "/admin/broadcasts/1",
            "/admin/deliveries?conversation=telegram:101",
        ):
            response = admin.client.get(path, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/admin/login"
        response = admin.client.post(
            NEW, data={"en": "Hi", "action": "send", "csrf": "x"}, follow_redirects=False
        )
        assert response.status_code == 303
        assert admin.db() == (0, 0)
    finally:
        admin.app_store.dispose()


def test_send_without_a_valid_csrf_token_is_refused(staff: BroadcastAdmin) -> None:
    form = staff.new_form()
    for token in ("forged", ""):
        response = staff.submit(
            {"en": "Branches close at 3pm", "action": "send"}, form={**form, "csrf": token}
        )
        assert response.status_code == 403
        assert "Nothing was changed" in response.text
    assert staff.db() == (0, 0)


def test_nav_links_and_spanish_ui(staff: BroadcastAdmin) -> None:
    page = staff.client.get("/admin").text
    assert 'href="/admin/broadcasts"' in page and 'href="/admin/deliveries"' in page
    page = staff.client.get("/admin/broadcasts?ui=es").text
    assert "<h1>Avisos</h1>" in page and "Nuevo aviso" in page
    form = staff.new_form()
    response = staff.submit({"en": "", "es": " ", "action": "send"}, form=form)
    assert "No se envió nada" in response.text


# -- overview ------------------------------------------------------------------


def test_overview_counts_subscribers_per_channel(staff: BroadcastAdmin) -> None:
    staff.broadcaster.subscriptions.unsubscribe("slack:T1:U2")
    page = staff.client.get("/admin/broadcasts").text
    cells = dict(re.findall(r'data-channel="(\w+)">(\d+)<', page))
    assert cells == {
        "telegram": "2",
        "slack": "1",
        "web": "1",
        "email": "0",
        "sms": "0",
        "active": "4",
        "retired": "1",
    }
    assert "No broadcasts yet." in page
    assert 'http-equiv="refresh"' not in page


# -- preview and send -------------------------------------------------------------


def test_preview_shows_each_channel_and_language_and_changes_nothing(
    staff: BroadcastAdmin,
) -> None:
    texts = {"en": "Branches <close> at 3pm & reopen at 9", "es": "Las oficinas cierran a las 15"}
    response = staff.submit({**texts, "action": "preview"})
    assert response.status_code == 200
    previews = _previews(response.text)
    assert set(previews) == {
        (c, lang) for c in ("telegram", "slack", "web", "email", "sms") for lang in ("en", "es")
    }
    composer = staff.broadcaster.composer
    for (channel, lang), (count, messages) in previews.items():
        expected = composer.announcement_text(texts, lang, channel)
        if channel not in ("email", "sms"):  # shown in more detail: test_contact_preview.py
            assert messages == list(renderers()[channel](expected))
        wanted = {cid for cid, sub_lang, _ in SUBSCRIBERS if sub_lang == lang}
        assert count == sum(1 for cid in wanted if cid.startswith(channel + ":"))
    telegram_en = previews[("telegram", "en")][1][0]
    assert telegram_en == render_html(composer.announcement_text(texts, "en", "telegram"))
    assert "Branches &lt;close&gt; at 3pm &amp; reopen at 9" in telegram_en
    assert "/stop" in telegram_en and telegram_en.startswith("📣 Announcement")
    slack_es = previews[("slack", "es")][1][0]
    assert slack_es.startswith("📣 Aviso\nLas oficinas cierran a las 15")
    assert "no más avisos" in slack_es
    assert "&lt;close&gt;" in previews[("slack", "en")][1][0]
    sms_es = html.unescape(  # no pictographs, the SMS footer
        re.findall(r'<pre class="sms-body">(.*?)</pre>', response.text, re.S)[1]
    )
    assert sms_es.startswith("Aviso\nLas oficinas") and sms_es.endswith(
        "Responde BAJA para no recibir más avisos"
    )
    web_en = previews[("web", "en")][1][0]
    assert "Branches <close> at 3pm & reopen at 9" in web_en and "stop updates" in web_en
    assert re.search(r'class="total">5<', response.text)
    assert staff.db() == (0, 0)


def _preview_form(staff: BroadcastAdmin, data: dict[str, str]) -> dict[str, str]:
    """The hidden fields of the Send form a preview shows."""
    page = staff.submit({**data, "action": "preview"}).text
    send_form = page.split('<form method="post"')[-1]
    assert 'value="send"' in send_form
    return dict(_HIDDEN.findall(send_form))


def test_send_writes_one_broadcast_and_a_double_submit_sends_nothing_more(
    staff: BroadcastAdmin,
) -> None:
    texts = {"en": "Branches close at 3pm today.", "es": "Las oficinas cierran a las 15 hoy."}
    form = _preview_form(staff, texts)
    assert form["en"] == texts["en"] and form["es"] == texts["es"]
    assert form["key"].startswith("announce:")

    first = staff.submit({"action": "send"}, form=form)
    assert first.status_code == 303
    match = re.fullmatch(r"/admin/broadcasts/(\d+)\?sent=1", first.headers["location"])
    assert match
    broadcast_id = int(match.group(1))
    assert staff.db() == (1, len(SUBSCRIBERS))
    [progress] = staff.broadcaster.outbox.progress()
    assert (progress.id, progress.kind, progress.created_by) == (
        broadcast_id,
        "announcement",
        "admin:Ana",
    )
    assert progress.recipients == len(SUBSCRIBERS)
    rows = staff.broadcaster.outbox.audit(broadcast_id=broadcast_id)
    assert {r.conversation_id for r in rows} == expected_recipients()
    composer = staff.broadcaster.composer
    for row in rows:
        assert row.text == composer.announcement_text(texts, row.lang, row.channel)
    assert (
        "Sent: the messages are in the outbox" in staff.client.get(first.headers["location"]).text
    )

    again = staff.submit({"action": "send"}, form=form)
    assert again.status_code == 303
    assert again.headers["location"] == f"/admin/broadcasts/{broadcast_id}?again=1"
    assert (
        "already been sent; it was not sent again"
        in staff.client.get(again.headers["location"]).text
    )
    assert staff.db() == (1, len(SUBSCRIBERS))


def test_empty_or_too_long_texts_are_refused(staff: BroadcastAdmin) -> None:
    for data in (
        {"en": "", "es": ""},
        {"en": "   \n ", "es": "\t"},
        {"en": "x" * 2001},
        {"en": "ok", "es": "y" * 2001},
    ):
        for action in ("send", "preview"):
            response = staff.submit({**data, "action": action})
            assert response.status_code == 400, (data, action)
            assert "Nothing sent:" in response.text
    assert "at most 2000 are allowed" in staff.submit({"en": "x" * 2001, "action": "send"}).text
    assert "write the announcement in English or Spanish" in staff.submit({"action": "send"}).text
    assert staff.db() == (0, 0)


def test_a_form_key_not_made_by_the_admin_is_refused(staff: BroadcastAdmin) -> None:
    form = staff.new_form()
    for key in ("", "update:abc:1", "announce:not-hex"):
        response = staff.submit({"en": "Hi", "action": "send"}, form={**form, "key": key})
        assert response.status_code == 400
        assert "this form is not valid any more" in response.text
    assert staff.db() == (0, 0)


def test_component_targeting(staff: BroadcastAdmin) -> None:
    page = staff.client.get(NEW).text
    for name in ("Card payments", "ATMs", "Mobile app"):
        assert f'<option value="{name}" >{name}</option>' in page
    form = _preview_form(staff, {"en": "Card payments are slow.", "component": "card payments"})
    assert form["component"] == "card payments"
    response = staff.submit({"action": "send"}, form=form)
    assert response.status_code == 303
    [progress] = staff.broadcaster.outbox.progress()
    rows = staff.broadcaster.outbox.audit(broadcast_id=progress.id)
    assert {r.conversation_id for r in rows} == expected_recipients("Card payments")
    assert {r.conversation_id for r in rows} == {
        "telegram:101",
        "telegram:102",
        "slack:T1:U2",
        "web:s-1",
    }

    unknown = staff.submit({"en": "Hi", "component": "Branches", "action": "send"})
    assert unknown.status_code == 400
    assert "the status page has no component Branches" in unknown.text
    assert staff.db() == (1, 4)


def test_component_preview_counts_only_those_it_reaches(staff: BroadcastAdmin) -> None:
    response = staff.submit({"en": "ATMs down", "component": "ATMs", "action": "preview"})
    previews = _previews(response.text)
    counts = {key: count for key, (count, _) in previews.items()}
    assert counts[("slack", "en")] == 1 and counts[("telegram", "es")] == 0
    assert re.search(r'class="total">4<', response.text)


def test_without_a_status_only_all_subscribers_can_be_chosen(
    tmp_path: Path, encoder: Encoder
) -> None:
    admin = make_broadcast_admin(tmp_path, encoder, components=())
    try:
        admin.login()
        page = admin.client.get(NEW).text
        assert page.count("<option") == 1 and "All subscribers" in page
        response = admin.submit({"en": "Hi", "component": "ATMs", "action": "send"})
        assert response.status_code == 400
        assert admin.db() == (0, 0)
    finally:
        admin.app_store.dispose()


# -- progress and audit ----------------------------------------------------------------


def _announce(staff: BroadcastAdmin, text: str, key: str) -> int:
    broadcast_id = staff.broadcaster.announce({"en": text}, created_by="cli:ops", key=key)
    assert broadcast_id is not None
    return broadcast_id


def test_progress_pages_count_states_and_refresh_until_done(staff: BroadcastAdmin) -> None:
    outbox_ = staff.broadcaster.outbox
    broadcast_id = _announce(staff, "Maintenance tonight.", "announce:" + "a" * 32)
    page = staff.client.get("/admin/broadcasts").text
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "cli:ops" in page and "Maintenance tonight." in page

    items = outbox_.claim(["telegram", "slack", "web"], "test-owner", limit=10)
    assert len(items) == 5
    outbox_.sent(items[0].id)
    outbox_.sent(items[1].id)
    outbox_.failed(items[2].id, "Bad Request: message is too long")
    outbox_.retired(items[3].id, "recipient gone: Telegram 403: blocked")
    # items[4] is still being sent

    detail = staff.client.get(f"/admin/broadcasts/{broadcast_id}").text
    states = dict(re.findall(r'data-state="(\w+)">(\d+)<', detail))
    assert states == {"pending": "0", "sending": "1", "sent": "2", "failed": "1", "retired": "1"}
    assert '<meta http-equiv="refresh"' in detail and "in progress" in detail
    assert "Bad Request: message is too long" in detail
    assert "recipient gone: Telegram 403: blocked" in detail
    for item in items[2:4]:
        assert f"/admin/deliveries?conversation={item.conversation_id.replace(':', '%3A')}" in (
            detail
        )
    assert items[0].conversation_id not in detail  # delivered: not a failure

    outbox_.sent(items[4].id)
    overview = staff.client.get("/admin/broadcasts").text
    row = overview.split(f'id="broadcast-{broadcast_id}"')[1].split("</tr>")[0]
    assert dict(re.findall(r'data-state="(\w+)">(\d+)<', row)) == {
        "pending": "0",
        "sending": "0",
        "sent": "3",
        "failed": "1",
        "retired": "1",
    }
    assert "done" in row
    assert 'http-equiv="refresh"' not in overview
    assert 'http-equiv="refresh"' not in staff.client.get(f"/admin/broadcasts/{broadcast_id}").text


def test_unknown_broadcast_is_404(staff: BroadcastAdmin) -> None:
    response = staff.client.get("/admin/broadcasts/999")
    assert response.status_code == 404 and "No such broadcast." in response.text
    assert staff.client.get("/admin/broadcasts/nope").status_code == 404


def test_delivery_audit_of_one_subscriber(staff: BroadcastAdmin) -> None:
    first = _announce(staff, "First notice.", "announce:" + "b" * 32)
    second = staff.broadcaster.announce(
        {"en": "ATMs only."},
        components=["ATMs"],
        created_by="admin:Ana",
        key="announce:" + "c" * 32,
    )
    items = staff.broadcaster.outbox.claim(["slack"], "test-owner", limit=10)
    for item in items:
        if item.conversation_id == "slack:T1:U1" and item.broadcast_id == first:
            staff.broadcaster.outbox.sent(item.id)

    page = staff.client.get("/admin/deliveries", params={"conversation": "slack:T1:U1"}).text
    assert "active" in page and "ATMs" in page
    rows = re.findall(r'<tr data-outbox="\d+">(.*?)</tr>', page, re.S)
    assert len(rows) == 2  # newest first
    assert f"#{second}" in rows[0] and "ATMs only." in rows[0] and "Sending" in rows[0]
    assert f"#{first}" in rows[1] and "First notice." in rows[1] and "Sent" in rows[1]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", rows[1])

    staff.broadcaster.subscriptions.unsubscribe("telegram:102")
    page = staff.client.get("/admin/deliveries?conversation=telegram:102").text
    assert "stopped (unsubscribed)" in page and "Card payments" in page
    assert len(re.findall(r"<tr data-outbox=", page)) == 1  # only the first notice

    page = staff.client.get("/admin/deliveries?conversation=web:nobody").text
    assert "No subscription." in page and "Nothing was sent to this conversation." in page
    assert "Show" in staff.client.get("/admin/deliveries").text


def test_previewing_a_form_whose_announcement_went_out_starts_a_new_one(
    staff: BroadcastAdmin,
) -> None:
    form = _preview_form(staff, {"en": "First."})
    assert staff.submit({"action": "send"}, form=form).status_code == 303
    # back button: the same form, edited and previewed again
    fresh = _preview_form(staff, {"en": "Second."} | {"key": form["key"], "csrf": form["csrf"]})
    assert fresh["key"] != form["key"]
    assert staff.submit({"action": "send"}, form=fresh).status_code == 303
    assert [p.title for p in staff.broadcaster.outbox.progress()] == ["Second.", "First."]


def test_the_app_serves_the_pages_and_delivers_what_staff_send(
    tmp_path: Path, encoder: Encoder
) -> None:
    from bot.app import create_app
    from bot.settings import Settings
    from bot.wiring import build_services
    from tests.helpers.status_builders import PROJECT

    settings = Settings.from_env(
        {
            "FARO_PROJECT_DIR": str(PROJECT),
            "FARO_DATA_DIR": str(tmp_path / "data"),
            "FARO_DATABASE_URL": sqlite_url(tmp_path),
            "FARO_FAQ": str(write_seed(tmp_path)),
            "FARO_RASA_URL": "http://127.0.0.1:9",
            "FARO_ADMIN_PASSWORD": PASSWORD,
        }
    )
    services = build_services(settings, encoder=encoder)
    assert services.broadcaster is not None
    subscribe(services.broadcaster.subscriptions, [("web:s-7", "en", ())])
    try:
        with TestClient(create_app(services), base_url="https://testserver") as client:
            admin = BroadcastAdmin(
                client, FaqStore(services.store.engine), services.faq, services.store
            )
            assert admin.login().url.path == "/admin"
            assert "<h1>Broadcasts</h1>" in client.get("/admin/broadcasts").text
            form = _preview_form(admin, {"en": "Branches close at 3pm."})
            sent = admin.submit({"action": "send"}, form=form)
            assert sent.status_code == 303
            outbox_ = services.broadcaster.outbox
            deadline = time.monotonic() + 10
            while True:
                [mine] = [p for p in outbox_.progress() if p.kind == "announcement"]
                if mine.done:
                    break
                assert time.monotonic() < deadline, mine.counts
                time.sleep(0.1)
            assert mine.counts == {"sent": 1}
            page = client.get("/admin/deliveries?conversation=web:s-7").text
            assert "Branches close at 3pm." in page and "Sent" in page
    finally:
        services.store.dispose()
