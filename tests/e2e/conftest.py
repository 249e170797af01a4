"""One real stack (Rasa server + app) shared by the end-to-end tests of a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa and the app on free loopback ports, with a fresh data folder."""
    data_dir: Path = tmp_path_factory.mktemp("faro-e2e")
    with running_stack(data_dir) as running:
        yield running
