"""``faro up --scale-out`` refuses what cannot work with one clear line, starting nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from bot.scaleout import Topology, haproxy_config


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"FARO_DATABASE_URL": "sqlite:///x.db"},
            "FARO_DATABASE_URL: the scale-out needs PostgreSQL",
        ),
        (
            {"FARO_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/faro",
             "FARO_RASA_TRACKER_URL": "sqlite:///t.db"},
            "FARO_RASA_TRACKER_URL: the scale-out needs PostgreSQL",
        ),
        (
            {"FARO_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/faro",
             "FARO_REDIS_URL": "http://127.0.0.1:6379"},
            "FARO_REDIS_URL: the scale-out needs Redis",
        ),
    ],
)  # fmt: skip
def test_bad_settings_are_refused_before_anything_starts(
    env: dict[str, str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FARO_DATA_DIR", str(tmp_path))
    for name in ("FARO_RASA_TRACKER_URL", "FARO_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["up", "--scale-out", "--app-replicas", "2"])
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "scale-out" / "haproxy.cfg").exists()


def test_the_tracker_database_defaults_to_the_app_databases_name_plus_rasa() -> None:
    topology = Topology(
        database_url="postgresql+psycopg://faro:secret@db.internal:5433/help", redis_url="redis://r"
    )
    assert (
        topology.rasa_tracker_url == "postgresql+psycopg://faro:secret@db.internal:5433/help_rasa"
    )


def test_the_load_balancer_is_round_robin_without_stickiness() -> None:
    config = haproxy_config(host="127.0.0.1", port=8000, app_ports=[9001, 9002, 9003])
    assert "balance roundrobin" in config
    assert "cookie" not in config and "stick" not in config
    assert config.count("server app") == 3
    assert "127.0.0.1:9003 check" in config
    assert "option redispatch" in config and "option forwardfor" in config
