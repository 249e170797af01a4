"""Admin sign-in, sessions and CSRF over HTTP."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.admin.auth import COOKIE
from faq_index import Encoder
from tests.admin.conftest import PASSWORD, TOKEN, Admin, make_admin
from tests.faq_store.builders import mortgage


def test_the_console_is_on_without_a_bootstrap_secret(tmp_path: Path, encoder: Encoder) -> None:
    on = make_admin(tmp_path, encoder, password=None, token=None)
    for path in ("/admin", "/admin/entries/when-fixed"):
        response = on.client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    assert on.client.get("/admin/login").status_code == 200
    # no shared secret: a name with an empty or made-up password signs nobody in
    assert on.login(name="Ana", password="").status_code == 401
    on.app_store.dispose()


def test_pages_need_a_session(admin: Admin) -> None:
    for path in ("/admin", "/admin/preview", "/admin/unanswered", "/admin/audit"):
        response = admin.client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/admin/login"


def test_post_without_a_session_changes_nothing(admin: Admin) -> None:
    before = admin.state()
    response = admin.client.post(
        "/admin/entries/when-fixed/retire", data={"csrf": "x"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert admin.state() == before


def test_wrong_password_is_refused(admin: Admin, caplog: pytest.LogCaptureFixture) -> None:
    response = admin.login(password="guess")
    assert response.status_code == 401
    assert "Wrong password or token" in response.text
    assert admin.client.get("/admin", follow_redirects=False).status_code == 303
    assert "guess" not in caplog.text and PASSWORD not in caplog.text


def test_name_is_required(admin: Admin) -> None:
    assert admin.login(name="   ").status_code == 401


def test_password_and_token_both_sign_in(admin: Admin) -> None:
    assert admin.login(password=TOKEN).url.path == "/admin"
    assert "Signed in as" in admin.client.get("/admin").text


def test_login_needs_the_csrf_token_of_its_form(admin: Admin) -> None:
    admin.client.get("/admin/login")
    response = admin.client.post(
        "/admin/login", data={"csrf": "forged", "name": "Ana", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert admin.client.get("/admin", follow_redirects=False).status_code == 303


def test_session_cookie_is_signed_httponly_strict_and_secure(admin: Admin) -> None:
    admin.client.get("/admin/login")
    csrf = admin.csrf("/admin/login")
    response = admin.client.post(
        "/admin/login",
        data={"csrf": csrf, "name": "Ana", "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "SameSite=strict", "Secure", "Path=/admin"):
        assert flag.lower() in cookie.lower()
    assert PASSWORD not in cookie and "Ana" not in cookie  # base64'd and signed, not plain


def test_forged_or_tampered_session_is_rejected(signed_in: Admin) -> None:
    body, _, mac = signed_in.client.cookies[COOKIE].partition(".")
    forged_user = base64.urlsafe_b64encode(b'{"u": "root", "n": "x", "e": 9999999999}')
    for forged in (f"{body}.{mac[:-2]}AA", f"{forged_user.decode()}.{mac}", "garbage"):
        signed_in.client.cookies.delete(COOKIE)
        signed_in.client.cookies.set(COOKIE, forged)
        assert signed_in.client.get("/admin", follow_redirects=False).status_code == 303


def test_a_session_from_another_secret_is_rejected(
    signed_in: Admin, tmp_path: Path, encoder: Encoder
) -> None:
    other = make_admin(tmp_path / "other", encoder, password="another password")
    other.client.cookies.set(COOKIE, signed_in.client.cookies[COOKIE])
    assert other.client.get("/admin", follow_redirects=False).status_code == 303
    other.app_store.dispose()


@pytest.mark.parametrize("csrf", ["", "wrong-token"])
@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/entries/new", {"id": "x-y", "question_en": "Q?", "answer_en": "A."}),
        ("/admin/entries/when-fixed", {"question_en": "Q?", "answer_en": "Changed."}),
        ("/admin/entries/when-fixed/retire", {}),
        ("/admin/unanswered/paraphrase", {"entry_id": "when-fixed", "text": "x", "lang": "en"}),
    ],
)
def test_post_without_the_right_csrf_token_is_403_and_changes_nothing(
    signed_in: Admin, path: str, data: dict[str, str], csrf: str
) -> None:
    before = signed_in.state()
    response = signed_in.post(path, data, csrf=csrf)
    assert response.status_code == 403
    assert "Nothing was changed" in response.text
    assert signed_in.state() == before


def test_csrf_token_of_another_session_is_refused(signed_in: Admin, tmp_path: Path) -> None:
    stolen = signed_in.csrf()
    signed_in.login()  # a new session, a new nonce
    before = signed_in.state()
    response = signed_in.post("/admin/entries/new", {"id": "a", "answer_en": "b"}, csrf=stolen)
    assert response.status_code == 403
    assert signed_in.state() == before


def test_post_that_is_not_a_form_is_refused(signed_in: Admin) -> None:
    before = signed_in.state()
    response = signed_in.client.post(
        "/admin/entries/new", json={"id": mortgage().id, "csrf": signed_in.csrf()}
    )
    assert response.status_code == 403
    assert signed_in.state() == before


def test_logout_ends_the_session(signed_in: Admin) -> None:
    response = signed_in.post("/admin/logout", {})
    assert response.status_code == 303
    assert signed_in.client.get("/admin", follow_redirects=False).status_code == 303


# --- issue 19: sessions revoked on sign-out; sign-in throttled --------------------------


def test_signing_out_revokes_the_session_so_the_old_cookie_is_refused(signed_in: Admin) -> None:
    # The attack: the cookie kept working for 8 h after signing out.
    stolen = signed_in.client.cookies[COOKIE]
    assert signed_in.post("/admin/logout", {}).status_code == 303
    signed_in.client.cookies.set(COOKIE, stolen, domain="testserver.local", path="/admin")
    assert signed_in.client.get("/admin", follow_redirects=False).status_code == 303
    before = signed_in.state()
    response = signed_in.client.post(
        "/admin/entries/when-fixed/retire", data={"csrf": "x"}, follow_redirects=False
    )
    assert response.status_code == 303 and signed_in.state() == before


def test_a_session_survives_a_restart_of_the_admin(
    signed_in: Admin, tmp_path: Path, encoder: Encoder
) -> None:
    # sessions are in the database: another replica (same database, same secret) accepts them
    other = make_admin(tmp_path, encoder, token=TOKEN)
    other.client.cookies.set(
        COOKIE, signed_in.client.cookies[COOKIE], domain="testserver.local", path="/admin"
    )
    assert other.client.get("/admin", follow_redirects=False).status_code == 200
    other.client.close()
    other.app_store.dispose()


def test_wrong_passwords_for_one_account_are_throttled(admin: Admin) -> None:
    # The attack: 30 wrong passwords in 1.1 s, all answered 401.
    statuses = [admin.login(name="Ana", password=f"guess{i}").status_code for i in range(5)]
    assert statuses[:3] == [401, 401, 401] and 429 in statuses
    refused = admin.login(name="Ana", password=PASSWORD)  # even the right one, while locked
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins" in refused.text
    assert admin.client.get("/admin", follow_redirects=False).status_code == 303


def test_wrong_passwords_from_one_address_are_throttled_across_names(admin: Admin) -> None:
    statuses = [admin.login(name=f"user{i}", password="guess").status_code for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[-1] == 429
    assert admin.login(name="Fresh", password=PASSWORD).status_code == 429
