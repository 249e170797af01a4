"""Per-person console accounts: the store (SQLite and PostgreSQL), roles enforced, links, pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.admin.accounts import Accounts, BadAccount, admin_accounts
from bot.admin.auth import COOKIE
from bot.db import Database
from faq_index import Encoder
from tests.admin.conftest import PASSWORD, Admin, make_admin
from tests.faq_store.builders import postgres_schema, sqlite_url

_LINK = re.compile(r'value="(https://testserver/admin/link/[^"]+)"')
STRONG = "a long enough password"


@pytest.fixture(params=["sqlite", "postgresql"])
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


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


# -- the store --------------------------------------------------------------------


def test_accounts_hash_passwords_with_argon2_and_verify_them(engine: sa.Engine) -> None:
    accounts = Accounts(engine)
    made = accounts.create("Ana Ruiz", email="ana@example.org", roles=["editor"], actor="t")
    assert made.roles == {"editor"} and not made.has_password
    accounts.set_password(made.id, STRONG, actor="t")
    with engine.connect() as conn:
        stored = str(conn.execute(sa.select(admin_accounts.c.password_hash)).scalar())
    assert stored.startswith("$argon2id$") and STRONG not in stored
    assert accounts.verify("ana ruiz", STRONG) == accounts.get(made.id)  # name: any case
    assert accounts.verify("ANA@example.org", STRONG) is not None  # or the email
    assert accounts.verify("Ana Ruiz", STRONG + "x") is None
    assert accounts.verify("nobody", STRONG) is None
    accounts.set_disabled(made.id, True, actor="t")
    assert accounts.verify("Ana Ruiz", STRONG) is None  # disabled: no sign-in
    events = [(e.event, e.actor) for e in accounts.events()]
    assert events[0] == ("disabled", "t") and ("created", "t") in events


def test_bad_account_input_is_refused_and_changes_nothing(engine: sa.Engine) -> None:
    accounts = Accounts(engine)
    accounts.create("Ana", actor="t")
    for kwargs, message in (
        ({"name": "  "}, "needs a name"),
        ({"name": "ANA"}, "exists already"),
        ({"name": "Bo", "email": "not-an-email"}, "email"),
        ({"name": "Bo", "roles": ["root"]}, "unknown role"),
        ({"name": "Bo", "password": "short"}, "at least 10"),
    ):
        name = kwargs.pop("name")
        with pytest.raises(BadAccount, match=message):
            accounts.create(str(name), actor="t", **kwargs)
    assert [a.name for a in accounts.all()] == ["Ana"]


def test_roles_are_a_set_and_admin_implies_every_role(engine: sa.Engine) -> None:
    accounts = Accounts(engine)
    both = accounts.create("Bo", roles=["editor", "agent"], actor="t")
    assert both.can("viewer") and both.can("editor") and both.can("agent")
    assert not both.can("communicator") and not both.can("admin")
    boss = accounts.create("Cy", roles=["admin"], actor="t")
    assert all(boss.can(r) for r in ("viewer", "editor", "communicator", "agent", "admin"))
    viewer = accounts.create("Di", actor="t")
    assert viewer.can("viewer") and not viewer.can("editor")


def test_a_sign_in_link_works_once_and_expires(engine: sa.Engine) -> None:
    clock = Clock()
    accounts = Accounts(engine, clock=clock)
    ana = accounts.create("Ana", actor="t")
    token = accounts.issue_link(ana.id, purpose="reset", actor="t")
    with engine.connect() as conn:
        stored = str(conn.execute(sa.text("SELECT id FROM admin_links")).scalar())
    assert stored != token and len(stored) == 64  # only its SHA-256 is kept
    assert accounts.redeem_link(token) == ana
    assert accounts.redeem_link(token) is None  # single use
    late = accounts.issue_link(ana.id, purpose="reset", actor="t")
    clock.now += timedelta(hours=24, seconds=1)
    assert accounts.redeem_link(late) is None  # expired
    assert accounts.redeem_link("made-up") is None


def test_the_first_admin_link_is_issued_until_an_admin_can_sign_in(engine: sa.Engine) -> None:
    accounts = Accounts(engine)
    token = accounts.first_admin_link()
    assert token is not None
    first = accounts.by_name("admin")
    assert first is not None and first.roles == {"admin"}
    assert accounts.first_admin_link() is not None  # a restart before it was used: a new one
    accounts.set_password(first.id, STRONG, actor="t")
    assert accounts.first_admin_link() is None
    assert len(accounts.all()) == 1


# -- the pages ------------------------------------------------------------------------


def _new_account(admin: Admin, name: str, *roles: str, email: str = "") -> str:
    """Add an account on the Accounts page; the one-time link it shows."""
    data: dict[str, Any] = {"name": name, "email": email}
    data.update({f"role_{r}": "1" for r in roles})
    page = admin.post("/admin/accounts", data, csrf=admin.csrf("/admin/accounts"))
    assert page.status_code == 200, page.text
    match = _LINK.search(page.text)
    assert match
    return match.group(1)


def _set_password(admin: Admin, link: str) -> None:
    admin.client.cookies.clear()
    response = admin.client.get(link.removeprefix("https://testserver"))
    assert response.url.path == "/admin/account"
    token = admin.csrf("/admin/account")
    saved = admin.post("/admin/account", {"password": STRONG, "password2": STRONG}, csrf=token)
    assert saved.status_code == 303


def test_an_editor_cannot_manage_accounts_and_a_viewer_cannot_change_anything(
    signed_in: Admin,
) -> None:
    editor_link = _new_account(signed_in, "Eva", "editor")
    viewer_link = _new_account(signed_in, "Vic")
    _set_password(signed_in, viewer_link)
    _set_password(signed_in, editor_link)  # now signed in as Eva
    page = signed_in.client.get("/admin/accounts")
    assert page.status_code == 403 and "no access to this page" in page.text
    assert 'href="/admin/accounts"' not in signed_in.client.get("/admin").text  # not in the nav
    # Vic (viewer) signs in: sees entries, cannot retire one
    signed_in.client.cookies.clear()
    assert signed_in.login("Vic", STRONG).url.path == "/admin"
    before = signed_in.state()
    refused = signed_in.post("/admin/entries/when-fixed/retire", {"version": "1"})
    assert refused.status_code == 403
    assert signed_in.state() == before
    assert signed_in.client.get("/admin/entries/new").status_code == 403


def test_changes_are_audited_by_account(signed_in: Admin) -> None:
    link = _new_account(signed_in, "Eva", "editor")
    _set_password(signed_in, link)
    token = signed_in.csrf("/admin/entries/when-fixed")
    signed_in.post("/admin/entries/when-fixed/retire", {"version": "1"}, csrf=token)
    assert signed_in.faq_store.audit(limit=1)[0].actor == "admin:Eva"


def test_admins_change_roles_disable_and_reset_and_it_takes_effect_at_once(
    signed_in: Admin,
) -> None:
    link = _new_account(signed_in, "Eva", "editor")
    boss = dict(signed_in.client.cookies)
    _set_password(signed_in, link)
    eva = dict(signed_in.client.cookies)
    eva_id = Accounts(signed_in.app_store.engine).by_name("Eva")
    assert eva_id is not None
    signed_in.client.cookies.clear()
    signed_in.client.cookies.update(boss)
    token = signed_in.csrf("/admin/accounts")
    assert signed_in.post(f"/admin/accounts/{eva_id.id}/disable", {}, csrf=token).status_code == 303
    signed_in.client.cookies.clear()
    signed_in.client.cookies.update(eva)
    assert signed_in.client.get("/admin", follow_redirects=False).status_code == 303  # out
    signed_in.client.cookies.clear()
    assert signed_in.login("Eva", STRONG).status_code == 401
    signed_in.client.cookies.clear()
    signed_in.client.cookies.update(boss)
    token = signed_in.csrf("/admin/accounts")
    signed_in.post(f"/admin/accounts/{eva_id.id}/enable", {}, csrf=token)
    signed_in.post(f"/admin/accounts/{eva_id.id}/roles", {"role_communicator": "1"}, csrf=token)
    again = signed_in.post(f"/admin/accounts/{eva_id.id}/reset", {}, csrf=token)
    assert _LINK.search(again.text)
    stored = Accounts(signed_in.app_store.engine).get(eva_id.id)
    assert stored is not None and stored.roles == {"communicator"} and not stored.disabled
    me = Accounts(signed_in.app_store.engine).by_name("Ana")
    assert me is not None
    refused = signed_in.post(f"/admin/accounts/{me.id}/disable", {}, csrf=token)
    assert refused.status_code == 400 and "cannot disable your own" in refused.text


def test_account_names_are_inert_html_everywhere(signed_in: Admin) -> None:
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    link = _new_account(signed_in, evil, "editor", email="x@example.org")
    page = signed_in.client.get("/admin/accounts")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text
    assert "<img src=x" not in page.text
    _set_password(signed_in, link)
    home = signed_in.client.get("/admin")
    assert "<script>alert(1)" not in home.text and "&lt;script&gt;" in home.text


def test_account_forms_refuse_a_missing_or_foreign_csrf_token(signed_in: Admin) -> None:
    before = Accounts(signed_in.app_store.engine).all()
    for path in ("/admin/accounts", "/admin/account", f"/admin/accounts/{before[0].id}/reset"):
        for token in ("", "forged"):
            data = {"name": "Mallory", "role_admin": "1", "password": STRONG, "password2": STRONG}
            response = signed_in.post(path, data, csrf=token)
            assert response.status_code == 403, path
    assert Accounts(signed_in.app_store.engine).all() == before


def test_a_used_or_made_up_link_is_refused(signed_in: Admin) -> None:
    link = _new_account(signed_in, "Eva")
    _set_password(signed_in, link)
    signed_in.client.cookies.clear()
    again = signed_in.client.get(link.removeprefix("https://testserver"), follow_redirects=False)
    assert again.status_code == 410 and "not valid" in again.text
    assert COOKIE not in again.headers.get("set-cookie", "")
    assert signed_in.client.get("/admin/link/" + "x" * 43).status_code == 410


def test_short_or_mismatched_passwords_are_refused(signed_in: Admin) -> None:
    token = signed_in.csrf("/admin/account")
    short = signed_in.post(
        "/admin/account", {"password": "short", "password2": "short"}, csrf=token
    )
    assert short.status_code == 400 and "at least 10" in short.text
    mismatch = signed_in.post("/admin/account", {"password": STRONG, "password2": "x"}, csrf=token)
    assert mismatch.status_code == 400 and "differ" in mismatch.text
    ana = Accounts(signed_in.app_store.engine).by_name("Ana")
    assert ana is not None and not ana.has_password


def test_a_new_password_signs_out_the_other_sessions(tmp_path: Path, encoder: Encoder) -> None:
    first = make_admin(tmp_path, encoder)
    second = make_admin(tmp_path, encoder)  # another browser, same database
    assert first.login().status_code == 200 and second.login().status_code == 200
    token = first.csrf("/admin/account")
    assert first.post("/admin/account", {"password": STRONG, "password2": STRONG}, csrf=token)
    assert first.client.get("/admin", follow_redirects=False).status_code == 200
    assert second.client.get("/admin", follow_redirects=False).status_code == 303
    # the account's own password works now; the bootstrap secret still does for this admin
    second.client.cookies.clear()
    assert second.login(password=STRONG).url.path == "/admin"
    for a in (first, second):
        a.client.close()
    first.app_store.dispose()
    second.app_store.dispose()


def test_the_bootstrap_secret_signs_in_admins_only(signed_in: Admin) -> None:
    _new_account(signed_in, "Eva", "editor")
    signed_in.client.cookies.clear()
    # the shared secret cannot be used to become a non-admin account
    assert signed_in.login("Eva", PASSWORD).status_code == 401


def test_wrong_passwords_for_an_account_are_throttled_by_name_or_email(
    signed_in: Admin,
) -> None:
    link = _new_account(signed_in, "Eva", "editor", email="eva@example.org")
    _set_password(signed_in, link)
    signed_in.client.cookies.clear()
    names = ["Eva", "eva@example.org", "EVA", "Eva@Example.org"]  # one account, four spellings
    statuses = [signed_in.login(n, f"wrong password {i}").status_code for i, n in enumerate(names)]
    assert statuses[:3] == [401] * 3 and statuses[3] == 429
    refused = signed_in.login("Eva", STRONG)  # even the right password, while locked
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert signed_in.client.get("/admin", follow_redirects=False).status_code == 303


def test_account_pages_speak_spanish(signed_in: Admin) -> None:
    page = signed_in.client.get("/admin/accounts?ui=es")
    assert 'lang="es"' in page.text and "Añadir una cuenta" in page.text
    assert "administrador" in page.text and "Saltar al contenido" in page.text
    own = signed_in.client.get("/admin/account")  # the choice is kept in a cookie
    assert "Mi cuenta" in own.text and "Contraseña nueva" in own.text


def test_an_expired_session_is_signed_out(signed_in: Admin) -> None:
    assert signed_in.client.get("/admin", follow_redirects=False).status_code == 200
    past = datetime.now(UTC) - timedelta(seconds=1)
    with signed_in.app_store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE admin_sessions SET expires_at = :t"), {"t": past})
    response = signed_in.client.get("/admin", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
