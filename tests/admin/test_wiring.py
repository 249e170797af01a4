"""The admin and the FAQ reloader wired into the real app (build_services, create_app)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.db import Database
from bot.faqdb.codec import entry_to_dict, validate_edit
from bot.faqdb.store import FaqStore
from bot.settings import Settings, SettingsError
from bot.store import AppStore
from bot.wiring import build_services, oidc_config
from faq_index import Encoder
from tests.faq_store.builders import sqlite_url, write_seed

REPO = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, **extra: str) -> Settings:
    env = {
        "FARO_PROJECT_DIR": str(REPO),
        "FARO_DATA_DIR": str(tmp_path / "data"),
        "FARO_DATABASE_URL": sqlite_url(tmp_path),
        "FARO_FAQ": str(write_seed(tmp_path)),
        "FARO_FAQ_POLL_INTERVAL": "0.2",
        "FARO_RASA_URL": "http://127.0.0.1:9",
        **extra,
    }
    return Settings.from_env(env)


def test_settings_read_admin_secrets_and_poll_interval(tmp_path: Path) -> None:
    settings = _settings(tmp_path, FARO_ADMIN_PASSWORD="pw-secret", FARO_ADMIN_TOKEN="tk-secret")
    assert (settings.admin.password, settings.admin.token) == ("pw-secret", "tk-secret")
    assert settings.faq.poll_interval_s == 0.2
    assert "pw-secret" not in repr(settings) and "tk-secret" not in repr(settings)
    assert Settings.from_env({"FARO_PROJECT_DIR": str(tmp_path)}).faq.poll_interval_s == 1.0
    assert Settings.from_env({"FARO_PROJECT_DIR": str(tmp_path)}).admin.password is None
    with pytest.raises(SettingsError, match="FARO_FAQ_POLL_INTERVAL"):
        _settings(tmp_path, FARO_FAQ_POLL_INTERVAL="soon")


def test_settings_read_single_sign_on_and_refuse_an_unknown_default_role(tmp_path: Path) -> None:
    sso = {
        "FARO_OIDC_ISSUER": "https://id.example.org",
        "FARO_OIDC_CLIENT_ID": "faro",
        "FARO_OIDC_CLIENT_SECRET": "oidc-secret",
    }
    config = oidc_config(_settings(tmp_path, **sso, FARO_OIDC_DEFAULT_ROLE="None"))
    assert config is not None and config.issuer == "https://id.example.org"
    assert config.default_role == "none" and config.roles_claim == "roles"
    assert "oidc-secret" not in repr(_settings(tmp_path, **sso))
    partial = {k: v for k, v in sso.items() if k != "FARO_OIDC_CLIENT_SECRET"}
    assert oidc_config(_settings(tmp_path, **partial)) is None  # all three, or off
    with pytest.raises(SettingsError, match="FARO_OIDC_DEFAULT_ROLE"):
        _settings(tmp_path, FARO_OIDC_DEFAULT_ROLE="root")


def test_app_serves_the_admin_and_picks_up_another_replicas_change(
    tmp_path: Path, encoder: Encoder
) -> None:
    services = build_services(_settings(tmp_path, FARO_ADMIN_PASSWORD="pw"), encoder=encoder)
    app = create_app(services)
    other = AppStore(
        Database.open(sqlite_url(tmp_path)).engine
    )  # another replica's connection to the database
    try:
        with TestClient(app) as client:  # runs the lifespan: the reloader polls
            assert client.get("/admin/login").status_code == 200
            assert "Sign in" in client.get("/admin/login").text
            store = FaqStore(other.engine)
            stored = store.get("when-fixed")
            assert stored is not None
            raw = entry_to_dict(stored.entry)
            raw["answer"]["en"] = "It is fixed."
            saved = time.monotonic()
            store.update(validate_edit(raw), actor="admin:other-replica")
            while True:
                decision = services.faq.decide("when will it be fixed", "en")
                if decision.best and decision.best.entry.answer["en"] == "It is fixed.":
                    break
                assert time.monotonic() - saved < 5.0, "not served within 5 s"
                time.sleep(0.05)
    finally:
        other.dispose()
        services.store.dispose()


def test_app_without_an_admin_secret_prints_a_one_time_link_for_the_first_admin(
    tmp_path: Path, encoder: Encoder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.admin")
    services = build_services(_settings(tmp_path), encoder=encoder)
    link = services.console_link
    assert link is not None and link.startswith("http://127.0.0.1:8000/admin/link/")
    lines = [r.getMessage() for r in caplog.records if link in r.getMessage()]
    assert len(lines) == 1  # one line, with the full URL
    client = TestClient(create_app(services))
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
    path = link.removeprefix("http://127.0.0.1:8000")
    response = client.get(path)
    assert response.url.path == "/admin/account" and "Set a password now" in response.text
    # single use: a second visit (another browser) is refused
    assert TestClient(create_app(services)).get(path).status_code == 410
    services.store.dispose()
