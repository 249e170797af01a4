"""The Slack channel (slack-bolt): DMs and mentions for customers, ``/faro`` for staff.

:data:`SLACK` is the channel as ``bot.wiring`` registers it.
"""

from __future__ import annotations

import logging

from bot.channels.base import ChannelContext, ChannelParts, ChannelSpec
from bot.channels.slack.events import SlackHandlers, build_bolt_app
from bot.channels.slack.markup import render
from bot.channels.slack.push import SlackDeliverer
from bot.channels.slack.sender import SlackSender, make_client
from bot.channels.slack.staff import StaffTools
from bot.channels.slack.store import SeenEvents
from bot.channels.slack.transport import SocketModeRunner, events_route
from bot.channels.turns import TurnDispatcher
from bot.core.messages import BotMessage

logger = logging.getLogger(__name__)

__all__ = ["SLACK", "SlackSender", "make_client", "slack_channel"]


def slack_channel(context: ChannelContext) -> ChannelParts | None:
    """Slack's routes and workers, or None (said once in the log) when not configured."""
    settings = context.settings.slack
    token, secret, app_token = settings.bot_token, settings.signing_secret, settings.app_token
    if not token or not (secret or app_token):
        if token or secret or app_token:
            logger.warning(
                "Slack is off: set FARO_SLACK_BOT_TOKEN and FARO_SLACK_SIGNING_SECRET "
                "(or FARO_SLACK_APP_TOKEN for Socket Mode); %s is missing",
                "FARO_SLACK_BOT_TOKEN" if not token else "FARO_SLACK_SIGNING_SECRET",
            )
        else:
            logger.info("Slack is off (FARO_SLACK_BOT_TOKEN and FARO_SLACK_SIGNING_SECRET unset)")
        return None
    if not settings.staff_users:
        logger.warning(
            "Slack: /faro is refused to everyone: list staff member ids in FARO_SLACK_STAFF_USERS "
            "(or * for the whole workspace)"
        )
    sender = SlackSender(make_client(token=token, base_url=settings.api_url))
    queue = TurnDispatcher(name="Slack", concurrency=4)
    services = context.services
    handlers = SlackHandlers(
        conversation=context.conversation,
        sender=sender,
        queue=queue,
        staff=StaffTools(
            status=services.status,
            faq=services.faq,
            store=services.store,
            default_lang=context.settings.server.default_lang,
        ),
        seen=SeenEvents(services.store.engine),
        staff_users=frozenset(settings.staff_users),
    )
    if app_token:
        app = build_bolt_app(client=sender.client, signing_secret=None, handlers=handlers)
        logger.info("Slack is on: Socket Mode")
        return ChannelParts(
            background=[queue, SocketModeRunner(app, app_token=app_token)],
            deliverer=SlackDeliverer(sender),
        )
    app = build_bolt_app(client=sender.client, signing_secret=secret, handlers=handlers)
    logger.info("Slack is on: Events API at /slack/events")
    return ChannelParts(
        routes=[events_route(app)], background=[queue], deliverer=SlackDeliverer(sender)
    )


def render_broadcast(text: str) -> tuple[str, ...]:
    """A broadcast as Slack gets it: the mrkdwn text of each section block."""
    blocks, _fallback = render(BotMessage(text))
    return tuple(b["text"]["text"] for b in blocks if b.get("type") == "section")


SLACK = ChannelSpec(name="slack", build=slack_channel, render=render_broadcast)
