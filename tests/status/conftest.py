"""Fixtures for the status tests; any connection off loopback fails the test."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from bot.templates import TemplateStore
from tests.helpers.status_builders import STATUS_TEMPLATES, FakeClock


def _loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True
    try:
        return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
    except ValueError:
        return str(address[0]) == "localhost"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach the network beyond 127.0.0.1."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            raise AssertionError(f"status tests must stay offline; tried {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def templates() -> TemplateStore:
    """The shipped status templates."""
    return TemplateStore.from_paths([STATUS_TEMPLATES])


@pytest.fixture
def clock() -> FakeClock:
    """A hand-moved clock starting at T0."""
    return FakeClock()
