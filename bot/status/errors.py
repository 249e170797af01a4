"""The status boundary's exception tree: what can go wrong reading a status feed."""

from __future__ import annotations


class StatusError(Exception):
    """Base class for every status-feed error; the message is one clear sentence."""


class FeedUnavailable(StatusError):
    """The feed could not be reached: timeout, connection refused, HTTP error status."""


class FeedFormatError(StatusError):
    """The feed answered, but not with a document we can read (HTML, truncated JSON, bad XML)."""


class WebhookError(StatusError):
    """A webhook delivery is not a Statuspage incident or component payload."""
