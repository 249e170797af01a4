"""One Telegram update in, the bot's replies out: the translator between Telegram and the core."""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Message, Update, User

from bot.channels.telegram import callbacks
from bot.channels.telegram.errors import RecipientBlocked, SendError
from bot.channels.telegram.render import render_message
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.store import TelegramStore
from bot.core.languages import LANGUAGES
from bot.core.messages import Conversation, Turn
from bot.rasa import payloads

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
# Telegram clients send "/start" when a user opens the bot; greet them.
_GREETING_COMMANDS = {"/start", "/help"}
_GREETING_TEXT = "hello"


def conversation_id(chat_id: int) -> str:
    """The core's id for a Telegram chat."""
    return f"{CHANNEL}:{chat_id}"


def user_language(user: User | None) -> str | None:
    """The user's Telegram app language when the bot speaks it (None: let the core guess)."""
    code = (user.language_code or "") if user else ""
    lang = code.split("-")[0].lower()
    return lang if lang in LANGUAGES else None


class UpdateHandler:
    """Turns messages and button presses into turns, and the core's replies into messages."""

    def __init__(
        self, *, conversation: Conversation, sender: TelegramSender, store: TelegramStore
    ) -> None:
        self._conversation = conversation
        self._sender = sender
        self._store = store

    async def handle(self, update: Update) -> None:
        """Process one update; messages and callback queries, everything else is ignored."""
        if update.callback_query is not None:
            await self._on_callback(update.callback_query)
        elif update.message is not None:
            await self._on_message(update.message)
        else:
            logger.debug("ignored update %s without a message", update.update_id)

    async def _on_message(self, message: Message) -> None:
        user = message.from_user
        if user is not None and user.is_bot:
            return
        text = message.text or message.caption or ""
        command = text.split(maxsplit=1)[0].split("@")[0].lower() if text.startswith("/") else ""
        if command in _GREETING_COMMANDS:
            text = _GREETING_TEXT
        chat_id = message.chat.id
        turn = Turn(
            conversation_id=conversation_id(chat_id),
            channel=CHANNEL,
            text=text,
            lang=user_language(user),
            # Telegram's convention for "stop sending me things": stop incident updates.
            payload=payloads.UNSUBSCRIBE if command == "/stop" else None,
        )
        await self._reply(chat_id, turn)

    async def _on_callback(self, query: CallbackQuery) -> None:
        await self._sender.answer_callback(query.id)
        message = query.message if isinstance(query.message, Message) else None
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        data = query.data or ""
        title = _button_title(message, data)
        payload: str | None = data or None
        if payload is not None and callbacks.is_key(payload):
            payload = await asyncio.to_thread(self._store.load_payload, payload)
        if payload is None and not title:
            logger.info("button press in chat %s with unknown data ignored", chat_id)
            return
        turn = Turn(
            conversation_id=conversation_id(chat_id),
            channel=CHANNEL,
            text=title,
            lang=user_language(query.from_user),
            payload=payload,
        )
        if await self._reply(chat_id, turn) and message is not None and message.reply_markup:
            # One answer per keyboard: a second press on an old choice is confusing.
            try:
                await self._sender.clear_keyboard(chat_id, message.message_id)
            except SendError as exc:
                logger.debug("could not clear a keyboard: %s", exc)

    async def _reply(self, chat_id: int, turn: Turn) -> bool:
        """Send the core's replies to ``chat_id``; False when the chat cannot be reached."""
        replies = await self._conversation.handle(turn)
        for reply in replies:
            for button in reply.buttons:
                if not callbacks.fits(button.payload):
                    key = callbacks.key_for(button.payload)
                    await asyncio.to_thread(self._store.save_payload, key, button.payload)
            for html, keyboard in render_message(reply, encode=callbacks.callback_data):
                try:
                    await self._sender.send_message(chat_id, html, keyboard=keyboard)
                except RecipientBlocked:
                    logger.info("chat %s blocked the bot; reply dropped", chat_id)
                    return False
                except SendError as exc:
                    logger.warning("reply to chat %s not sent: %s", chat_id, exc.reason)
                    return False
        return True


def _button_title(message: Message | None, data: str) -> str:
    """The label of the pressed button, read from the message's own keyboard."""
    markup = message.reply_markup if message is not None else None
    if markup is None or not data:
        return ""
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return ""
