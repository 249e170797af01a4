"""Slack's requests, translated for the core: bolt listeners and what they queue.

Bolt verifies signatures (401 otherwise) and answers ``url_verification``
and ``ssl_check``. Listeners only check, de-duplicate and queue; the turn
runs after Slack has its acknowledgement (``process_before_response``: the
HTTP answer goes out when the listener returns, which is at once).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.errors import SlackError
from bot.channels.slack.markup import (
    BUTTON_VALUE_MAX,
    CHOICE_ACTION_PREFIX,
    choice_made,
    escape,
    incoming_text,
    truncate,
)
from bot.channels.slack.sender import SlackSender
from bot.channels.slack.staff import COMMAND, USAGE, StaffTools, parse
from bot.channels.slack.store import SeenEvents, SlackStoreUnavailable
from bot.channels.turns import TurnDispatcher
from bot.core.messages import Conversation, Turn

logger = logging.getLogger(__name__)

CHANNEL = "slack"
_PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


@dataclass(kw_only=True)
class SlackHandlers:
    """What the listeners do: turn Slack requests into queued turns and staff answers."""

    conversation: Conversation
    sender: SlackSender
    queue: TurnDispatcher
    staff: StaffTools
    seen: SeenEvents
    staff_users: frozenset[str] = frozenset()

    async def accept_message(
        self, body: dict[str, Any], event: dict[str, Any], *, bot_user_id: str | None
    ) -> BoltResponse | None:
        """Queue a person's DM or mention; None (200) when done or ignored, 503 when full."""
        if not _from_a_person(event):
            return None
        event_id = str(body.get("event_id") or "")
        try:
            if event_id and not await asyncio.to_thread(self.seen.claim, event_id):
                logger.info("Slack retried event %s; already handled", event_id)
                return None
        except SlackStoreUnavailable as exc:  # unsure whether it ran: let Slack retry later
            logger.error("Slack event %s not taken: %s", event_id, exc)
            return BoltResponse(status=503, body="busy")
        team = str(body.get("team_id") or event.get("team") or "")
        user, channel = str(event["user"]), str(event["channel"])
        turn = Turn(
            conversation_id=f"{CHANNEL}:{team}:{user}",
            channel=CHANNEL,
            text=incoming_text(str(event.get("text") or ""), bot_user_id=bot_user_id),
        )
        thread_ts = None
        if event.get("type") == "app_mention" or event.get("thread_ts"):
            thread_ts = str(event.get("thread_ts") or event.get("ts") or "") or None

        async def job() -> None:
            await self._reply(turn, channel, thread_ts)

        if self.queue.submit(turn.conversation_id, job):
            return None
        if event_id:
            try:
                await asyncio.to_thread(self.seen.release, event_id)
            except SlackStoreUnavailable as exc:
                logger.error("Slack event %s could not be released: %s", event_id, exc)
        return BoltResponse(status=503, body="busy")

    def accept_choice(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Queue a button press: the payload goes back to the core as ``Turn.payload``."""
        value, title = action.get("value"), (action.get("text") or {}).get("text", "")
        user = body.get("user") or {}
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        if not isinstance(value, str) or len(value) > BUTTON_VALUE_MAX or not channel:
            logger.warning("ignored a Slack button press without a usable value or channel")
            return
        team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
        message = body.get("message") or {}
        turn = Turn(
            conversation_id=f"{CHANNEL}:{team}:{user.get('id', '')}",
            channel=CHANNEL,
            text=str(title),
            payload=value,
        )
        thread_ts = message.get("thread_ts")

        async def job() -> None:
            if message.get("ts"):
                blocks = choice_made(list(message.get("blocks") or []), str(title))
                try:
                    await self.sender.update(
                        channel, message["ts"], blocks=blocks, text=truncate(escape(title), 3000)
                    )
                except SlackError as exc:
                    logger.warning("could not mark the choice made: %s", exc)
            await self._reply(turn, channel, thread_ts)

        self.queue.submit(turn.conversation_id, job)

    async def command(self, command: dict[str, Any], ack: AsyncAck, respond: AsyncRespond) -> None:
        """``/faro``: ack at once (usage errors in the ack), answer through ``response_url``."""
        user = str(command.get("user_id") or "")
        if not staff_may(self.staff_users, user):
            logger.info("refused /faro to a Slack user not listed as staff")
            await ack(text=not_staff_reply(user), response_type="ephemeral")
            return
        parsed = parse(str(command.get("text") or ""))
        if parsed is None:
            await ack(text=USAGE, response_type="ephemeral")
            return
        await ack()
        sub, args = parsed

        async def job() -> None:
            blocks, text = await self.staff.run(sub, args)
            await respond(blocks=blocks, text=text, response_type="ephemeral")

        if not self.queue.submit(f"staff:{command.get('user_id', '')}", job):
            await respond(
                text="Faro is very busy; try again in a minute.", response_type="ephemeral"
            )

    async def _reply(self, turn: Turn, channel: str, thread_ts: str | None) -> None:
        messages = await self.conversation.handle(turn)
        try:
            await self.sender.send(channel, messages, thread_ts=thread_ts)
        except SlackError as exc:
            logger.error("could not reply on Slack: %s", exc)


def staff_may(staff_users: frozenset[str], user: str) -> bool:
    """Whether ``user`` may run ``/faro``: listed, or everyone when the list is ``*``.

    Nobody may when the list is empty: the staff commands show customers' questions.
    """
    return "*" in staff_users or (bool(user) and user in staff_users)


def not_staff_reply(user: str) -> str:
    """What a Slack user who may not run ``/faro`` is told, with how to be allowed."""
    return (
        "Sorry, `/faro` is for staff. To allow you, whoever runs Faro adds your Slack "
        f"member id (`{escape(user[:30]) or 'unknown'}`) to FARO_SLACK_STAFF_USERS "
        "(comma-separated) and restarts it."
    )


def _from_a_person(event: dict[str, Any]) -> bool:
    """A message a person wrote (not a bot, not an edit, deletion or join notice)."""
    subtype = event.get("subtype")
    return (
        (subtype is None or isinstance(subtype, str))  # a list here crashed (tests/fuzz)
        and subtype in _PERSON_SUBTYPES
        and not event.get("bot_id")
        and not event.get("bot_profile")
        and isinstance(event.get("user"), str)
        and isinstance(event.get("channel"), str)
    )


def build_bolt_app(
    *, client: AsyncWebClient, signing_secret: str | None, handlers: SlackHandlers
) -> AsyncApp:
    """The bolt app with Faro's listeners; no ``signing_secret`` means Socket Mode."""
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=signing_secret is not None,
        process_before_response=True,
        ignoring_self_events_enabled=True,
    )

    @app.event("message")
    async def on_message(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> BoltResponse | None:
        if event.get("channel_type") != "im":
            return None
        return await handlers.accept_message(body, event, bot_user_id=context.bot_user_id)

    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> BoltResponse | None:
        return await handlers.accept_message(body, event, bot_user_id=context.bot_user_id)

    @app.action(re.compile("^" + re.escape(CHOICE_ACTION_PREFIX) + r"\d+$"))
    async def on_choice(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        handlers.accept_choice(body, action)

    @app.command(COMMAND)
    async def on_command(command: dict[str, Any], ack: AsyncAck, respond: AsyncRespond) -> None:
        await handlers.command(command, ack, respond)

    return app
