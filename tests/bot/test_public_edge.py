"""The app's public edge: its configured origin and the trusted proxies (issue 19).

Behind a reverse proxy every request comes from the proxy's address; the
visitor's is in ``X-Forwarded-For``, the scheme in ``X-Forwarded-Proto``.
They are honoured only from FARO_TRUSTED_PROXIES, for the rate-limit keys,
the admin's sign-in throttle and the Secure cookie flag.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.services import AppServices
from bot.settings import Settings, SettingsError
from bot.wiring import build_services
from faq_index import load_encoder

REPO = Path(__file__).resolve().parents[2]
PUBLIC = "https://help.northwind.example"
PROXY = ("10.1.2.3", 40000)


def settings(tmp_path: Path, **extra: str) -> Settings:
    return Settings.from_env(
        {
            "FARO_PROJECT_DIR": str(REPO),
            "FARO_DATA_DIR": str(tmp_path / "data"),
            "FARO_RASA_URL": "http://127.0.0.1:9",
            "FARO_WEB_RATE_PER_IP": "2",
            "FARO_ADMIN_PASSWORD": "pw-for-the-edge",
            **extra,
        }
    )


@pytest.fixture
def services(tmp_path: Path) -> Iterator[AppServices]:
    s = build_services(
        settings(tmp_path, FARO_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.1", FARO_PUBLIC_ORIGIN=PUBLIC),
        encoder=load_encoder("hashing"),
    )
    yield s
    s.store.dispose()


def client(services: AppServices, peer: tuple[str, int], **kw: Any) -> TestClient:
    return TestClient(create_app(services), client=peer, **kw)


def sessions(c: TestClient, visitor: str, n: int) -> list[int]:
    return [
        c.post("/api/session", headers={"X-Forwarded-For": f"{visitor}, 10.9.9.9"}).status_code
        for _ in range(n)
    ]


def test_visitors_behind_a_trusted_proxy_get_their_own_buckets(services: AppServices) -> None:
    # The finding: behind a proxy every visitor shared the proxy's bucket; a surge got 429 for all.
    c = client(services, PROXY)
    assert sessions(c, "198.51.100.1", 3) == [200, 200, 429]
    assert sessions(c, "198.51.100.2", 2) == [200, 200]


def test_forwarded_headers_from_anyone_else_are_ignored(services: AppServices) -> None:
    c = client(services, ("203.0.113.7", 5000))  # not a proxy: its X-Forwarded-For is a lie
    statuses = [
        c.post("/api/session", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize(("peer", "secure"), [(PROXY, True), (("203.0.113.7", 5000), False)])
def test_the_secure_cookie_flag_follows_the_proto_only_a_trusted_proxy_reports(
    services: AppServices, peer: tuple[str, int], secure: bool
) -> None:
    c = client(services, peer, base_url="http://help.northwind.example")
    r = c.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == 200
    assert ("secure" in r.headers["set-cookie"].lower()) is secure


def test_the_configured_public_origin_is_own_and_localhost_is_no_longer_admitted(
    services: AppServices,
) -> None:
    c = client(services, PROXY)
    ok = c.post("/api/session", headers={"Origin": PUBLIC, "X-Forwarded-For": "198.51.100.3"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == PUBLIC
    for origin, host in [
        ("http://localhost:3000", "help.northwind.example"),
        ("http://127.0.0.1:8080", "help.northwind.example"),
        # DNS rebinding: the Host header names the attacker's site, which must not become "own"
        ("http://rebind.evil.example:8000", "rebind.evil.example:8000"),
    ]:
        r = c.post(
            "/api/session",
            headers={"Origin": origin, "Host": host, "X-Forwarded-For": "198.51.100.4"},
        )
        assert r.status_code == 403, origin


def test_without_a_public_origin_only_the_pages_own_origin_is_admitted(tmp_path: Path) -> None:
    s = build_services(settings(tmp_path), encoder=load_encoder("hashing"))
    try:
        c = TestClient(create_app(s), base_url="http://127.0.0.1:8000")
        assert (
            c.post("/api/session", headers={"Origin": "http://127.0.0.1:8000"}).status_code == 200
        )
        assert (
            c.post("/api/session", headers={"Origin": "http://localhost:3000"}).status_code == 403
        )
    finally:
        s.store.dispose()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FARO_PUBLIC_ORIGIN", "help.northwind.example"),
        ("FARO_PUBLIC_ORIGIN", "https://help.northwind.example/chat"),
        ("FARO_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        settings(tmp_path, **{name: value})


def test_a_full_batch_of_faq_searches_can_wait_in_threads_at_once(services: AppServices) -> None:
    # each FAQ search waits in a thread for its batch of embeddings: with asyncio's
    # default pool (6 threads on 2 cores) a batch could never gather more than that
    wanted = services.settings.faq.embedding_batch
    barrier = threading.Barrier(wanted, timeout=10)

    async def together() -> list[int]:
        return list(await asyncio.gather(*(asyncio.to_thread(barrier.wait) for _ in range(wanted))))

    with client(services, PROXY) as c:
        assert c.portal is not None  # the app's loop, its lifespan started
        assert sorted(c.portal.call(together)) == list(range(wanted))
