"""The live incident status: feeds (Statuspage JSON, webhooks, Atom/RSS, files), answers.

The app builds it once with :func:`bot.wiring.build_status` (or :func:`build_runtime`):
a :class:`LiveStatus` fed by a :class:`StatusPoller` and the webhook route,
read by :class:`LiveStatusService`, the ``StatusService`` actions use.
"""

from bot.status.errors import FeedFormatError, FeedUnavailable, StatusError, WebhookError
from bot.status.live import LiveStatus
from bot.status.model import Incident, StatusSnapshot
from bot.status.poller import StatusPoller
from bot.status.receiver import webhook_route
from bot.status.sources import AtomSource, FileSource, StatuspageSource, StatusSource, source_for
from bot.status.store import StateStore

__all__ = [
    "AtomSource",
    "FeedFormatError",
    "FeedUnavailable",
    "FileSource",
    "Incident",
    "LiveStatus",
    "StateStore",
    "StatusError",
    "StatusPoller",
    "StatusSnapshot",
    "StatusSource",
    "StatuspageSource",
    "WebhookError",
    "source_for",
    "webhook_route",
]
