"""``faro status show``: the normalized state of a feed, as text or JSON; bad feeds in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from tests.helpers.status_builders import FIXTURES
from tests.helpers.status_server import Failure, IncidentReplay, StatuspageServer


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("FARO_STATUS_FEED", raising=False)
    return CliRunner()


def test_show_the_embedded_sample(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["status", "show"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Northwind Bank: Partial System Outage")
    assert "!! Card payments: partial_outage" in result.output
    assert "ok ATMs: operational" in result.output
    assert "[identified, impact major] Some card payments are being declined" in result.output


def test_json_has_every_incident_with_its_updates(runner: CliRunner) -> None:
    feed = FIXTURES / "incidents" / "rgy28jwprr1c.json"
    result = runner.invoke(cli, ["status", "show", "--feed", str(feed), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (inc,) = data["incidents"]
    assert {k: inc[k] for k in ("id", "name", "status", "impact")} == {
        "id": "rgy28jwprr1c",
        "name": "Notifications degredation",
        "status": "resolved",
        "impact": "critical",
    }
    assert [u["status"] for u in inc["updates"]] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    assert inc["updates"][-1]["body"] == "We are investigating a delay in webhook delivery."


def test_json_of_the_sample_includes_maintenances(runner: CliRunner) -> None:
    data = json.loads(runner.invoke(cli, ["status", "show", "--json"]).stdout)
    assert data["maintenances"][0]["scheduled_for"] == "2026-11-29T01:00:00Z"
    assert data["incidents"][0]["updates"][0]["body"].startswith("We have found the cause")


def test_env_feed_and_atom_files(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FARO_STATUS_FEED", str(FIXTURES / "atom" / "history.atom"))
    result = runner.invoke(cli, ["status", "show"])
    assert result.exit_code == 0, result.output
    assert (
        "Open incidents:" in result.output
        and "Disruption with some GitHub services" in result.output
    )


def test_a_live_statuspage_url(runner: CliRunner) -> None:
    replay = IncidentReplay.from_file(FIXTURES / "incidents" / "rgy28jwprr1c.json")
    with StatuspageServer(replay, step=3).running() as server:
        result = runner.invoke(cli, ["status", "show", "--feed", server.url, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["indicator"] == "critical"
    assert data["incidents"][0]["status"] == "monitoring"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"page": {"id": ', "invalid JSON"),
        ("<html><body>Sign in</body></html>", "HTML page"),
        ('{"weather": "sunny"}', "not a Statuspage document"),
    ],
)
def test_bad_feed_files_fail_in_one_line(
    runner: CliRunner, tmp_path: Path, content: str, message: str
) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text(content, encoding="utf-8")
    result = runner.invoke(cli, ["status", "show", "--feed", str(feed)])
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: cannot read the status feed:") and message in line


def test_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["status", "show", "--feed", str(tmp_path / "nope.json")])
    assert (
        result.exit_code == 2
        and "cannot read" in result.stderr
        and "Traceback" not in result.output
    )


def test_failing_url(runner: CliRunner) -> None:
    with StatuspageServer(
        IncidentReplay.from_file(FIXTURES / "incidents" / "rgy28jwprr1c.json")
    ).running() as server:
        server.fail(Failure(status=503, body=b"down", content_type="text/plain"))
        result = runner.invoke(cli, ["status", "show", "--feed", server.url])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.endswith("/api/v2/summary.json: HTTP 503")


def test_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["status", "show", "--help"])
    assert result.exit_code == 0 and "--feed" in result.output and "--json" in result.output
