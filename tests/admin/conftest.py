"""Admin fixtures: the /admin routes over a real SQLite database and a live FAQ index."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.admin import OidcConfig, admin_routes
from bot.db import Database
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.store import AppStore
from faq_index import Encoder, load_encoder
from tests.faq_store.builders import sqlite_url, write_seed

PASSWORD = "correct horse battery staple"
TOKEN = "tok-4f1c2a"

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return load_encoder("hashing")


@dataclass
class Admin:
    """A browser on the admin: keeps cookies, finds CSRF tokens in pages."""

    client: TestClient
    faq_store: FaqStore
    faq: FaqService
    app_store: AppStore

    def csrf(self, path: str = "/admin") -> str:
        page = self.client.get(path)
        match = _CSRF.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, name: str = "Ana", password: str = PASSWORD) -> Any:
        token = self.csrf("/admin/login")
        return self.client.post(
            "/admin/login", data={"csrf": token, "name": name, "password": password}
        )

    def post(self, path: str, data: dict[str, Any], *, csrf: str | None = None) -> Any:
        token = self.csrf() if csrf is None else csrf
        return self.client.post(path, data={**data, "csrf": token}, follow_redirects=False)

    def state(self) -> tuple[int, list[Any], int]:
        """What must not change on a refused request: revision, entries, audit size."""
        return (
            self.faq_store.revision(),
            self.faq_store.snapshot()[0],
            len(self.faq_store.audit(limit=10_000)),
        )


def make_admin(
    tmp_path: Path,
    encoder: Encoder,
    *,
    password: str | None = PASSWORD,
    token: str | None = None,
    oidc: OidcConfig | None = None,
) -> Admin:
    """An admin app over a fresh, seeded SQLite database."""
    app_store = AppStore(Database.open(sqlite_url(tmp_path)).engine)
    faq_store = FaqStore(app_store.engine)
    faq = FaqService.from_store(
        faq_store, encoder=encoder, store=app_store, seed_paths=[write_seed(tmp_path)]
    )
    routes = admin_routes(
        password=password,
        token=token,
        session_secret="test-session-secret",
        faq_store=faq_store,
        faq=faq,
        app_store=app_store,
        oidc=oidc,
    )
    client = TestClient(Starlette(routes=routes), base_url="https://testserver")
    return Admin(client, faq_store, faq, app_store)


def admin_app(admin: Admin) -> Starlette:
    """The ASGI app behind ``admin``'s test client (to serve it to a real browser)."""
    app = admin.client.app
    assert isinstance(app, Starlette)
    return app


@pytest.fixture
def admin(tmp_path: Path, encoder: Encoder) -> Iterator[Admin]:
    """Signed out."""
    a = make_admin(tmp_path, encoder, token=TOKEN)
    yield a
    a.client.close()
    a.app_store.dispose()


@pytest.fixture
def signed_in(admin: Admin) -> Admin:
    response = admin.login()
    assert response.status_code == 200 and response.url.path == "/admin"
    return admin
