"""Single sign-on with OpenID Connect against a loopback identity provider (real HTTP, RS256)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from bot.admin import OidcConfig
from bot.admin.accounts import Accounts
from bot.admin.sso import COOKIE
from faq_index import Encoder
from tests.admin.conftest import Admin, admin_app, make_admin
from tests.helpers.live_server import live_server
from tests.helpers.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, loopback_provider
from tests.widget.conftest import CHROMIUM_ARGS, chromium_path, screenshot

USER = {
    "sub": "u-123",
    "email": "lea@example.org",
    "preferred_username": "Lea",
    "roles": ["editor"],
}


@pytest.fixture
def provider() -> Iterator[Provider]:
    with loopback_provider() as p:
        p.user = dict(USER)
        yield p


def _console(tmp_path: Path, encoder: Encoder, provider: Provider, **kw: str) -> Admin:
    config = OidcConfig(
        issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **kw
    )
    return make_admin(tmp_path, encoder, oidc=config)


@pytest.fixture
def console(tmp_path: Path, encoder: Encoder, provider: Provider) -> Iterator[Admin]:
    admin = _console(tmp_path, encoder, provider)
    yield admin
    admin.client.close()
    admin.app_store.dispose()


def _round_trip(console: Admin) -> Any:
    """Console → provider (real HTTP) → back to the console's callback."""
    start = console.client.get("/admin/sso", follow_redirects=False)
    assert start.status_code == 303
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    assert back.path == "/admin/sso/callback"
    return console.client.get(f"{back.path}?{back.query}", follow_redirects=False)


def test_single_sign_on_signs_in_with_the_roles_of_the_claim(
    console: Admin, provider: Provider
) -> None:
    assert "single sign-on" in console.client.get("/admin/login").text
    start = console.client.get("/admin/sso", follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert query["redirect_uri"] == ["https://testserver/admin/sso/callback"]
    console.client.cookies.clear()
    response = _round_trip(console)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    assert provider.refusals == []
    assert provider.token_requests[-1]["code_verifier"]  # PKCE was used and checked
    account = Accounts(console.app_store.engine).by_name("Lea")
    assert account is not None and account.sso and account.roles == {"editor"}
    page = console.client.get("/admin")
    assert page.status_code == 200 and "Lea" in page.text
    assert console.client.get("/admin/accounts").status_code == 403  # an editor, not an admin
    # the provider is the source of truth: new roles at the next sign-in
    provider.user["roles"] = "agent admin"
    console.client.cookies.clear()
    assert _round_trip(console).status_code == 303
    again = Accounts(console.app_store.engine).by_name("Lea")
    assert again is not None and again.roles == {"agent", "admin"} and again.id == account.id


@pytest.mark.parametrize(
    "attack", ["forged", "expired", "wrong_nonce", "wrong_audience", "wrong_issuer"]
)
def test_a_bad_id_token_is_refused(
    console: Admin, provider: Provider, attack: str, caplog: pytest.LogCaptureFixture
) -> None:
    provider.attack = attack
    response = _round_trip(console)
    assert response.status_code == 403 and "did not succeed" in response.text
    # the exchange itself went through: it is the ID token check that refused
    assert provider.refusals == [] and "ID token refused" in caplog.text
    assert console.client.get("/admin", follow_redirects=False).status_code == 303
    assert Accounts(console.app_store.engine).all() == []


def test_a_wrong_or_missing_state_is_refused(console: Admin, provider: Provider) -> None:
    start = console.client.get("/admin/sso", follow_redirects=False)
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    back = urlsplit(at_provider.headers["location"])
    forged = back.query.replace("state=", "state=x")
    assert console.client.get(f"{back.path}?{forged}").status_code == 403
    console.client.cookies.delete(COOKIE, path="/admin/sso")
    # a callback without the browser's pending sign-in (a login CSRF attempt)
    response = console.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert response.status_code == 403
    assert Accounts(console.app_store.engine).all() == []


def test_no_role_claim_gets_the_default_role_or_is_refused(
    tmp_path: Path, encoder: Encoder, provider: Provider
) -> None:
    provider.user.pop("roles")
    viewer = _console(tmp_path / "a", encoder, provider)
    assert _round_trip(viewer).status_code == 303
    made = Accounts(viewer.app_store.engine).by_name("Lea")
    assert made is not None and made.roles == frozenset()  # a viewer
    strict = _console(tmp_path / "b", encoder, provider, default_role="none")
    refused = _round_trip(strict)
    assert refused.status_code == 403 and "no role in this console" in refused.text
    assert Accounts(strict.app_store.engine).all() == []
    for a in (viewer, strict):
        a.client.close()
        a.app_store.dispose()


def test_a_disabled_account_stays_out(console: Admin, provider: Provider) -> None:
    assert _round_trip(console).status_code == 303
    lea = Accounts(console.app_store.engine).by_name("Lea")
    assert lea is not None
    Accounts(console.app_store.engine).set_disabled(lea.id, True, actor="admin:Ana")
    console.client.cookies.clear()
    assert _round_trip(console).status_code == 403


def test_single_sign_on_in_a_real_browser(console: Admin, provider: Provider) -> None:
    with live_server(admin_app(console)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.set_default_timeout(20_000)
        page.goto(base + "/admin/login")
        screenshot(page, "console-login-sso")
        page.get_by_role("link", name="Sign in with single sign-on").click()
        page.wait_for_url(base + "/admin")  # through the provider and back
        expect(page.locator(".who")).to_contain_text("Lea")
        expect(page.get_by_role("navigation").get_by_role("link", name="Accounts")).to_have_count(0)
        assert provider.token_requests[-1]["redirect_uri"] == base + "/admin/sso/callback"
        browser.close()
