"""How CLI commands report user mistakes: one line, non-zero exit, no traceback."""

from __future__ import annotations

from typing import Any

import click


class UserError(click.ClickException):
    """A mistake the user can fix; printed as ``error: <message>``, exit 2."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)
