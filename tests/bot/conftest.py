"""Fixtures for the bot/ and actions/ unit tests; fails any test that leaves loopback."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from bot.core.ports import ActionServices
from bot.templates import TemplateStore
from tests.bot.helpers import TEMPLATES_DIR, FakeFaq, FakeStatus


def _loopback(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX path
        return True
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests talk to loopback or a MockTransport only (like PTB's OfflineRequest)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(scope="session")
def templates() -> TemplateStore:
    """The real staff templates shipped in data/templates."""
    return TemplateStore.from_paths([TEMPLATES_DIR])


@pytest.fixture
def fake_faq() -> FakeFaq:
    return FakeFaq()


@pytest.fixture
def fake_status() -> FakeStatus:
    return FakeStatus()


@pytest.fixture
def action_services(
    fake_faq: FakeFaq, fake_status: FakeStatus, templates: TemplateStore
) -> ActionServices:
    """The services actions are built with: fakes, the real templates, no subscriptions."""
    return ActionServices(faq=fake_faq, status=fake_status, templates=templates)
