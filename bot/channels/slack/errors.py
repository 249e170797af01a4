"""The Slack channel's exceptions: one small tree for the Slack boundary."""

from __future__ import annotations


class SlackError(Exception):
    """Something went wrong talking to Slack."""


class SlackSendError(SlackError):
    """A Web API call failed after its retries (the message names the method and Slack's error)."""
