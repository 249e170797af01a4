"""``faro``: the one entry point. Each subcommand group lives in its own module."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

import click


# Every top-level command, imported only when used (plain imports, seen by mypy),
# so that `faro --help` and light commands do not load torch.
def _up() -> click.Command:
    from bot.cli.up import up

    return up


def _serve() -> click.Command:
    from bot.cli.up import serve

    return serve


def _faq() -> click.Command:
    from bot.cli.faq import faq

    return faq


def _eval() -> click.Command:
    from bot.cli.eval import eval_cmd

    return eval_cmd


def _status() -> click.Command:
    from bot.cli.status import status

    return status


def _bench() -> click.Command:
    from bot.cli.bench import bench

    return bench


def _train() -> click.Command:
    from bot.cli.train import train

    return train


def _telegram() -> click.Command:
    from bot.cli.telegram import telegram

    return telegram


def _announce() -> click.Command:
    from bot.cli.broadcast import announce

    return announce


def _broadcasts() -> click.Command:
    from bot.cli.broadcast import broadcasts

    return broadcasts


def _deliveries() -> click.Command:
    from bot.cli.broadcast import deliveries

    return deliveries


def _privacy() -> click.Command:
    from bot.cli.privacy import privacy

    return privacy


def _drill() -> click.Command:
    from bot.cli.drill import drill

    return drill


def _report() -> click.Command:
    from bot.cli.report import report

    return report


def _db() -> click.Command:
    from bot.cli.db import db

    return db


def _templates() -> click.Command:
    from bot.cli.templates import templates

    return templates


_COMMANDS: dict[str, tuple[Callable[[], click.Command], str]] = {
    "up": (_up, "Set up if needed, train, start Rasa and the app."),
    "serve": (_serve, "Run the app alone (Rasa runs elsewhere)."),
    "faq": (_faq, "Check, import, export and query the FAQ."),
    "eval": (_eval, "Score the answer center on a labelled query file."),
    "status": (_status, "Show the incident status from a feed."),
    "bench": (_bench, "Benchmark FAQ turns through the full stack."),
    "train": (_train, "Train the Rasa model if its inputs changed."),
    "telegram": (_telegram, "Register the webhook or long-poll Telegram."),
    "announce": (_announce, "Send a staff announcement to subscribers."),
    "broadcasts": (_broadcasts, "List recent broadcasts with progress."),
    "deliveries": (_deliveries, "Show what one subscriber was sent."),
    "privacy": (_privacy, "Export or erase one customer's data; purge old data."),
    "drill": (_drill, "Rehearse an incident on a sandbox stack."),
    "report": (_report, "The post-incident report of one incident (HTML or CSV)."),
    "db": (_db, "Migrate the app database's schema (before starting replicas)."),
    "templates": (_templates, "Export the message templates edited in the console."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = _COMMANDS.get(cmd_name)
        return spec[0]() if spec else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, _COMMANDS[n][1]) for n in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail to stderr.")
def cli(verbose: bool) -> None:
    """Faro, the outage assistant."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The Telegram API URL carries the bot token: never log requests.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def main() -> None:
    """Run the CLI; user mistakes end in one line on stderr and exit 2."""
    try:
        cli.main(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(130)


if __name__ == "__main__":
    main()
