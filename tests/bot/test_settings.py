"""bot.settings.Settings.from_env: defaults, overrides, errors naming the variable."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tmp_path / "proj"


def from_env(project: Path, **env: str) -> Settings:
    return Settings.from_env({"FARO_PROJECT_DIR": str(project), **env})


def test_defaults_run_on_one_machine_without_services(project: Path) -> None:
    s = from_env(project)
    assert s.project_dir == project.resolve()
    assert (s.server.host, s.server.port) == ("127.0.0.1", 8000)
    assert s.data_dir == project.resolve() / ".faro"
    assert s.cache_dir == s.data_dir / "cache"
    assert s.state_dir == s.data_dir / "state"
    assert s.rasa.urls == ("http://127.0.0.1:5005",)
    assert s.rasa.timeout_s == 10.0
    assert s.rasa.rasa_bin == project.resolve() / ".venv-rasa/bin/rasa"
    assert (s.rasa.endpoints, s.rasa.replicas) == ("endpoints.yml", None)
    assert s.faq.paths == (project.resolve() / "data/faq",)
    faq = s.faq
    assert (faq.embedding_model, faq.embedding_int8, faq.embedding_threads) == (None, False, 1)
    assert (faq.embedding_batch, faq.embedding_batch_wait_ms) == (32, 2.0)
    assert faq.embedding_runtime == "onnx"
    assert s.template_paths == (project.resolve() / "data/templates",)
    assert s.status.feed == str(project.resolve() / "data/status/sample.json")
    assert s.status.poll_interval_s == 30.0
    assert s.status.webhook_token is None
    assert s.status.timezone == "UTC"
    assert s.database.url == f"sqlite:///{s.data_dir / 'faro.db'}"
    assert not s.database.shared
    assert s.server.max_message_chars == 1000
    assert s.server.default_lang == "en"


def test_embedded_secrets_are_generated_once_and_kept_private(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bot.settings")
    a = from_env(project)
    assert len(a.rasa.action_token) >= 32 and len(a.web.session_secret) >= 32
    assert a.rasa.action_token != a.web.session_secret
    assert a.generated_secrets == ("FARO_ACTION_TOKEN", "FARO_SESSION_SECRET")
    # a restart (or a second process on this machine) gets the same ones
    b = from_env(project)
    assert (b.rasa.action_token, b.web.session_secret) == (
        a.rasa.action_token,
        a.web.session_secret,
    )
    folder = a.data_dir / "secrets"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # one line each when generated, naming the variable, never the value
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all("is not set: generated one" in line for line in lines)
    assert a.web.session_secret not in caplog.text


def test_secrets_from_the_environment_are_used_and_nothing_is_written(project: Path) -> None:
    s = from_env(project, FARO_ACTION_TOKEN="tok-from-env", FARO_SESSION_SECRET="sess-from-env")
    assert (s.rasa.action_token, s.web.session_secret) == ("tok-from-env", "sess-from-env")
    assert s.generated_secrets == ()
    assert not (s.data_dir / "secrets").exists()


@pytest.mark.parametrize("missing", ["FARO_ACTION_TOKEN", "FARO_SESSION_SECRET"])
def test_a_shared_database_needs_shared_secrets(project: Path, missing: str) -> None:
    env = {
        "FARO_DATABASE_URL": "postgresql+psycopg://faro@db/faro",
        "FARO_ACTION_TOKEN": "tok",
        "FARO_SESSION_SECRET": "sess",
    }
    del env[missing]
    with pytest.raises(SettingsError) as info:
        from_env(project, **env)
    assert str(info.value).startswith(f"{missing}: must be set")
    assert not (project / ".faro" / "secrets").exists()


def test_project_dir_defaults_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).project_dir == tmp_path.resolve()


def test_reads_os_environ_when_no_mapping_given(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FARO_PROJECT_DIR", str(project))
    monkeypatch.setenv("FARO_PORT", "9123")
    assert Settings.from_env().server.port == 9123


def test_overrides(project: Path, tmp_path: Path) -> None:
    faq_a, faq_b = tmp_path / "faq-a", "more/faq"
    s = from_env(
        project,
        FARO_HOST="0.0.0.0",
        FARO_PORT="8080",
        FARO_DATA_DIR="/var/lib/faro",
        FARO_RASA_URL=" http://rasa-0:5005/ , http://rasa-1:5005,,",
        FARO_RASA_TIMEOUT="2.5",
        FARO_ACTION_TOKEN="action-token-from-env",
        FARO_SESSION_SECRET="session-secret-from-env",
        FARO_FAQ=f"{faq_a}{os.pathsep}{faq_b}",
        FARO_TEMPLATES="tpl",
        FARO_STATUS_FEED="https://status.example.com/api/v2/summary.json",
        FARO_STATUS_POLL_INTERVAL="5",
        FARO_STATUS_WEBHOOK_TOKEN="hook-token",
        FARO_EMBEDDING_MODEL="hashing",
        FARO_DATABASE_URL="postgresql://faro@db/faro",
        FARO_MAX_MESSAGE_CHARS="500",
        FARO_DEFAULT_LANG="es",
        FARO_STATUS_TIMEZONE="America/Mexico_City",
        FARO_EMBEDDING_INT8="1",
        FARO_EMBEDDING_RUNTIME="Torch",
        FARO_EMBEDDING_THREADS="2",
        FARO_EMBEDDING_BATCH="1",
        FARO_EMBEDDING_BATCH_WAIT_MS="5",
        FARO_RASA_BIN="/opt/rasa/bin/rasa",
        FARO_RASA_ENDPOINTS="deploy/endpoints.scale-out.yml",
        FARO_RASA_REPLICAS="3",
    )
    assert (s.server.host, s.server.port) == ("0.0.0.0", 8080)
    assert s.data_dir == Path("/var/lib/faro")
    assert s.rasa.urls == ("http://rasa-0:5005", "http://rasa-1:5005")
    assert s.rasa.timeout_s == 2.5
    assert s.rasa.action_token == "action-token-from-env"
    assert s.web.session_secret == "session-secret-from-env"
    assert s.rasa.rasa_bin == Path("/opt/rasa/bin/rasa")
    assert (s.rasa.endpoints, s.rasa.replicas) == ("deploy/endpoints.scale-out.yml", 3)
    assert s.faq.paths == (faq_a, project.resolve() / "more/faq")
    assert s.template_paths == (project.resolve() / "tpl",)
    assert s.status.feed == "https://status.example.com/api/v2/summary.json"
    assert s.status.poll_interval_s == 5.0
    assert s.status.webhook_token == "hook-token"
    assert s.status.timezone == "America/Mexico_City"
    assert (s.faq.embedding_batch, s.faq.embedding_batch_wait_ms) == (1, 5.0)
    assert s.faq.embedding_runtime == "torch"
    assert (s.faq.embedding_model, s.faq.embedding_int8, s.faq.embedding_threads) == (
        "hashing",
        True,
        2,
    )
    assert s.database.url == "postgresql://faro@db/faro"
    assert s.database.shared
    assert s.server.max_message_chars == 500
    assert s.server.default_lang == "es"


def test_empty_values_mean_default(project: Path) -> None:
    s = from_env(
        project,
        FARO_PORT="",
        FARO_RASA_TIMEOUT="",
        FARO_ACTION_TOKEN="",
        FARO_STATUS_WEBHOOK_TOKEN="",
        FARO_EMBEDDING_MODEL="",
        FARO_DATABASE_URL="",
    )
    assert s.server.port == 8000 and s.rasa.timeout_s == 10.0
    assert s.rasa.action_token  # generated, not the empty string
    assert s.status.webhook_token is None and s.faq.embedding_model is None
    assert s.database.url.startswith("sqlite:///")


def test_settings_are_frozen(project: Path) -> None:
    s = from_env(project)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.server.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FARO_PORT", "eighty"),
        ("FARO_PORT", "8000.5"),
        ("FARO_PORT", "-1"),
        ("FARO_PORT", "65536"),
        ("FARO_RASA_URL", ""),
        ("FARO_RASA_URL", " , ,"),
        ("FARO_RASA_TIMEOUT", "soon"),
        ("FARO_RASA_TIMEOUT", "0"),
        ("FARO_RASA_TIMEOUT", "-3"),
        ("FARO_RASA_TIMEOUT", "nan"),
        ("FARO_RASA_TIMEOUT", "inf"),
        ("FARO_STATUS_POLL_INTERVAL", "0"),
        ("FARO_STATUS_POLL_INTERVAL", "nan"),
        ("FARO_MAX_MESSAGE_CHARS", "9"),
        ("FARO_MAX_MESSAGE_CHARS", "100001"),
        ("FARO_MAX_MESSAGE_CHARS", "lots"),
        ("FARO_DEFAULT_LANG", "fr"),
        ("FARO_DEFAULT_LANG", "EN"),
        ("FARO_RASA_URL", "rasa:5005"),
        ("FARO_RASA_REPLICAS", "0"),
        ("FARO_RASA_REPLICAS", "two"),
        ("FARO_STATUS_TIMEZONE", "Mars/Olympus"),
        ("FARO_EMBEDDING_INT8", "maybe"),
        ("FARO_EMBEDDING_RUNTIME", "tensorflow"),
        ("FARO_EMBEDDING_THREADS", "0"),
        ("FARO_EMBEDDING_BATCH", "0"),
        ("FARO_EMBEDDING_BATCH_WAIT_MS", "-1"),
        ("FARO_DATABASE_URL", "not a url"),
    ],
)
def test_invalid_value_names_the_variable(project: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        from_env(project, **{name: value})
    assert str(info.value).startswith(f"{name}: ")


def test_secrets_never_appear_in_repr(project: Path) -> None:
    s = from_env(
        project,
        FARO_ACTION_TOKEN="act-SECRET-1",
        FARO_SESSION_SECRET="sess-SECRET-2",
        FARO_STATUS_WEBHOOK_TOKEN="hook-SECRET-3",
        FARO_DATABASE_URL="postgresql://faro:db-SECRET-4@db.internal:5432/faro",
    )
    shown = repr(s) + str(s)
    assert "Settings(" in shown and "port=8000" in shown
    for secret in ("act-SECRET-1", "sess-SECRET-2", "hook-SECRET-3", "db-SECRET-4"):
        assert secret not in shown, secret
