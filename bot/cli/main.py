"""``faro``: the one entry point. Each subcommand group lives in its own module."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys

import click

# (module, attribute) of every top-level command; imported lazily so that
# `faro --help` and light commands do not load torch.
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "up": ("bot.cli.up", "up", "Set up if needed, train, start Rasa and the app."),
    "serve": ("bot.cli.up", "serve", "Run the app alone (Rasa runs elsewhere)."),
    "faq": ("bot.cli.faq", "faq", "Check, import, export and query the FAQ."),
    "eval": ("bot.cli.eval", "eval_cmd", "Score the answer center on a labelled query file."),
    "status": ("bot.cli.status", "status", "Show the incident status from a feed."),
    "bench": ("bot.cli.bench", "bench", "Benchmark FAQ turns through the full stack."),
    "train": ("bot.cli.train", "train", "Train the Rasa model if its inputs changed."),
    "telegram": ("bot.cli.telegram", "telegram", "Register the webhook or long-poll Telegram."),
    "announce": ("bot.cli.broadcast", "announce", "Send a staff announcement to subscribers."),
    "broadcasts": ("bot.cli.broadcast", "broadcasts", "List recent broadcasts with progress."),
    "deliveries": ("bot.cli.broadcast", "deliveries", "Show what one subscriber was sent."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, (mod, _, _) in _COMMANDS.items() if _exists(mod))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = _COMMANDS.get(cmd_name)
        if spec is None or not _exists(spec[0]):
            return None
        module = importlib.import_module(spec[0])
        command: click.Command = getattr(module, spec[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, _COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


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
