"""Staff announcements: checking the texts, who would get them, and what each channel shows.

Shared by the admin pages and ``faro announce``, so a preview says exactly
what :meth:`bot.broadcast.watcher.Broadcaster.announce` will write.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.broadcast.compose import Composer
from bot.broadcast.subscriptions import Subscription
from bot.core.languages import LANGUAGES

MAX_CHARS = 2000
KEY_PREFIX = "announce:"
_KEY = re.compile(r"announce:[0-9a-f]{32}")


class AnnouncementError(ValueError):
    """An announcement that cannot be sent as given (empty, too long, unknown component)."""

    def __init__(self, message: str, *, code: str, **params: object) -> None:
        super().__init__(message)
        self.code = code  # "empty", "too_long", "unknown_component": for translated messages
        self.params = params


@dataclass(frozen=True, slots=True)
class ChannelPreview:
    """What the subscribers of one channel and language would get."""

    channel: str
    lang: str
    recipients: int
    text: str  # as composed (what the web widget shows)
    messages: tuple[str, ...]  # as sent on the channel (Telegram HTML parts, Slack mrkdwn blocks)
    detail: Rendering | None = None  # email: subject, text and HTML parts; SMS: segments


@dataclass(frozen=True, slots=True)
class Rendering:
    """What a channel with more than text parts sends (email, SMS), for staff to check."""

    subject: str = ""  # email: the Subject line
    text: str = ""  # email: the text/plain part; SMS: the body as sent
    html: str = ""  # email: the text/html part (untrusted as a page: shown sandboxed)
    encoding: str = ""  # SMS: "GSM-7" or "UCS-2"
    units: int = 0  # SMS: septets or UTF-16 units
    segments: int = 0  # SMS: segments billed


# (composed text, language) -> how the channel renders it
DetailRenderer = Callable[[str, str], Rendering]


def announcement_texts(en: str, es: str, *, max_chars: int = MAX_CHARS) -> dict[str, str]:
    """The texts by language, trimmed; raises :class:`AnnouncementError` when none or too long."""
    texts: dict[str, str] = {}
    for lang, raw in (("en", en), ("es", es)):
        text = (raw or "").replace("\r\n", "\n").strip()
        if len(text) > max_chars:
            raise AnnouncementError(
                f"the {lang} text has {len(text)} characters; at most {max_chars} are allowed",
                code="too_long",
                lang=lang,
                length=len(text),
                max=max_chars,
            )
        if text:
            texts[lang] = text
    if not texts:
        raise AnnouncementError(
            "the announcement is empty: give an English or Spanish text (or both)", code="empty"
        )
    return texts


def new_key() -> str:
    """A unique broadcast key for one announcement (repeated submits reuse it)."""
    return KEY_PREFIX + uuid.uuid4().hex


def valid_key(key: str) -> bool:
    """True when ``key`` is one :func:`new_key` makes."""
    return bool(_KEY.fullmatch(key or ""))


def resolve_component(name: str, known: Iterable[str]) -> str:
    """The status page's spelling of component ``name`` (any case); raises when unknown."""
    wanted = " ".join(name.split()).lower()
    names = list(known)
    for candidate in names:
        if candidate.lower() == wanted:
            return candidate
    listed = ", ".join(names) if names else "none known"
    raise AnnouncementError(
        f"unknown component {name!r} (components: {listed})",
        code="unknown_component",
        name=name,
        known=listed,
    )


def recipients(
    subscribers: Iterable[Subscription], components: Sequence[str]
) -> list[Subscription]:
    """The subscribers an announcement about ``components`` (none: everyone) reaches."""
    return [s for s in subscribers if s.wants(components)]


def preview(
    composer: Composer,
    renderers: Mapping[str, Callable[[str], tuple[str, ...]]],
    subscribers: Iterable[Subscription],
    texts: Mapping[str, str],
    components: Sequence[str] = (),
    details: Mapping[str, DetailRenderer] | None = None,
) -> list[ChannelPreview]:
    """Per channel and language: the message and how many subscribers would get it.

    ``renderers`` (each channel's, from the wiring) say how a text looks on it;
    ``details`` (email, SMS) what else staff should see (subject, HTML, segments).
    """
    details = details or {}
    reached = recipients(subscribers, components)
    langs = list(dict.fromkeys([*LANGUAGES, *sorted({s.lang for s in reached})]))
    channels = list(dict.fromkeys([*renderers, *sorted({s.channel for s in reached})]))
    result = []
    for channel in channels:
        for lang in langs:
            text = composer.announcement_text(texts, lang, channel)
            count = sum(1 for s in reached if s.channel == channel and s.lang == lang)
            render = renderers.get(channel)
            messages = render(text) if render else (text,)
            detail = details[channel](text, lang) if channel in details else None
            result.append(ChannelPreview(channel, lang, count, text, messages, detail))
    return result
