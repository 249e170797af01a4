"""The Slack channel's exceptions: one small tree for the Slack boundary."""

from __future__ import annotations


class SlackError(Exception):
    """Something went wrong talking to Slack."""


class SlackSendError(SlackError):
    """A Web API call failed after its retries (the message names the method and Slack's error)."""

    def __init__(self, message: str, *, error: str | None = None) -> None:
        super().__init__(message)
        # Slack's error code ("account_inactive"); None when Slack gave no answer
        # (connection failure, time-out) or only an HTTP status.
        self.error = error
