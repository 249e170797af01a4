"""faro telegram set-webhook / delete-webhook / poll against the fake Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from bot.stack import ROOT
from tests.channels.telegram.conftest import SECRET
from tests.helpers.telegram_fake import TOKEN, FakeBotApi


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """The fake in a thread: the commands run their own event loop."""
    with FakeBotApi().running() as fake:
        yield fake


def env(api: FakeBotApi, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "FARO_PROJECT_DIR": str(ROOT),
        "FARO_DATA_DIR": str(tmp_path),
        "FARO_TELEGRAM_TOKEN": TOKEN,
        "FARO_TELEGRAM_SECRET": SECRET,
        "FARO_TELEGRAM_API_URL": api.url,
        "FARO_RASA_URL": "http://127.0.0.1:9",
        **extra,
    }


def run(args: list[str], environment: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, env=environment)
    return result.exit_code, result.output


COMMANDS = ("set-webhook", "delete-webhook", "poll")


@pytest.mark.parametrize(
    "args", [["telegram", "--help"]] + [["telegram", c, "--help"] for c in COMMANDS]
)
def test_every_command_has_help(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0 and "Usage:" in result.output


def test_set_webhook_registers_the_url_and_secret(api: FakeBotApi, tmp_path: Path) -> None:
    code, out = run(
        ["telegram", "set-webhook", "https://faro.example/telegram/webhook"], env(api, tmp_path)
    )
    assert code == 0, out
    assert api.webhook == {
        "url": "https://faro.example/telegram/webhook",
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
    }
    assert "https://faro.example/telegram/webhook" in out and SECRET not in out


def test_set_webhook_adds_the_path_to_a_bare_host(api: FakeBotApi, tmp_path: Path) -> None:
    code, _ = run(["telegram", "set-webhook", "https://faro.example/"], env(api, tmp_path))
    assert code == 0
    assert api.webhook is not None and api.webhook["url"] == "https://faro.example/telegram/webhook"


def test_delete_webhook(api: FakeBotApi, tmp_path: Path) -> None:
    run(["telegram", "set-webhook", "https://faro.example/"], env(api, tmp_path))
    code, _ = run(["telegram", "delete-webhook"], env(api, tmp_path))
    assert code == 0 and api.webhook is None


SET = ["set-webhook", "https://faro.example/"]


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [
        (["set-webhook", "http://faro.example/"], {}, "only to https:// URLs"),
        (SET, {"FARO_TELEGRAM_TOKEN": ""}, "FARO_TELEGRAM_TOKEN is not set"),
        (SET, {"FARO_TELEGRAM_SECRET": ""}, "FARO_TELEGRAM_SECRET is not set"),
        (SET, {"FARO_TELEGRAM_SECRET": "bad secret!"}, "FARO_TELEGRAM_SECRET: use"),
        (SET, {"FARO_TELEGRAM_TOKEN": "1:WrongTokenValue"}, "refused FARO_TELEGRAM_TOKEN"),
        (["poll"], {"FARO_TELEGRAM_TOKEN": ""}, "FARO_TELEGRAM_TOKEN is not set"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    api: FakeBotApi, tmp_path: Path, args: list[str], extra: dict[str, str], message: str
) -> None:
    code, out = run(["telegram", *args], env(api, tmp_path, **extra))
    assert code == 2
    assert message in out and out.count("\n") == 1 and "Traceback" not in out
    assert "WrongTokenValue" not in out and TOKEN.split(":")[1] not in out
    assert api.webhook is None


def test_poll_refuses_while_a_webhook_is_set(api: FakeBotApi, tmp_path: Path) -> None:
    run(["telegram", "set-webhook", "https://faro.example/"], env(api, tmp_path))
    code, out = run(["telegram", "poll", "--timeout", "1"], env(api, tmp_path))
    assert code == 2 and "faro telegram delete-webhook" in out
    assert api.calls_of("getUpdates") and api.calls_of("getMe", ok=True)
