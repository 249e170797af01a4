"""The staff slash command ``/faro``: status, ask, unanswered.

Each subcommand renders Block Kit for an ephemeral reply. Everything that
came from customers or from the FAQ is escaped before it reaches mrkdwn.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from bot.channels.slack.markup import BLOCKS_MAX, escape, section, split_escaped, text_blocks
from bot.core.ports import StatusService
from bot.language import guess_language
from bot.store import AppStore
from faq_index import FaqIndex

logger = logging.getLogger(__name__)

COMMAND = "/faro"
USAGE = (
    "Usage: `/faro status [question]` (the incident as customers see it now), "
    "`/faro ask <question>` (what the bot would answer, with scores), "
    "`/faro unanswered` (recent questions with no answer)."
)
SUBCOMMANDS = ("status", "ask", "unanswered")
UNANSWERED_LIMIT = 20
ASK_MATCHES = 5


class StaffIndex(Protocol):
    """Where the live FAQ index is found (``FaqService`` is one)."""

    @property
    def index(self) -> FaqIndex:
        """The index in service now."""
        ...


@dataclass(frozen=True, kw_only=True)
class StaffTools:
    """What the staff command reads: status, the FAQ index, the store of misses."""

    status: StatusService
    faq: StaffIndex
    store: AppStore
    default_lang: str = "en"

    async def run(self, subcommand: str, args: str) -> tuple[list[dict[str, Any]], str]:
        """Blocks and fallback text for one subcommand (assumed valid)."""
        if subcommand == "status":
            return self.status_blocks(args)
        if subcommand == "ask":
            return await asyncio.to_thread(self.ask_blocks, args)
        return await asyncio.to_thread(self.unanswered_blocks)

    def status_blocks(self, question: str) -> tuple[list[dict[str, Any]], str]:
        """What a customer asking about the outage is told right now."""
        lang = guess_language(question, default=self.default_lang)
        reply = self.status.status_reply(question or "status", lang)
        head = section("*What customers are told now:*")
        return [head, *text_blocks(reply.text, max_blocks=BLOCKS_MAX - 1)], escape(reply.text)

    def ask_blocks(self, question: str) -> tuple[list[dict[str, Any]], str]:
        """The decision the bot would take for ``question``, its answer, and the top scores."""
        lang = guess_language(question, default=self.default_lang)
        index = self.faq.index
        decision = index.decide(question, lang)
        matches = index.search(question, lang, k=ASK_MATCHES)
        lines = [f"*Question* ({lang}): {escape(question)}", f"*Decision:* {decision.kind}"]
        if decision.kind == "answer" and decision.best is not None:
            _, answer = decision.best.entry.answer_for(lang)
            lines.append(f"*Answer* (`{decision.best.entry.id}`):\n{escape(answer)}")
        elif decision.kind == "choose":
            lines.append("*Choices:* " + ", ".join(f"`{m.entry.id}`" for m in decision.matches))
        else:
            lines.append("The bot would say it has no answer, offer a person, and record it.")
        lines.append("*Top matches:*")
        for m in matches:
            _, title = m.entry.question_for(lang)
            lines.append(f"• `{m.score:.2f}` `{m.entry.id}`: {escape(title)}")
        if not matches:
            lines.append("• (none)")
        text = "\n".join(lines)
        return [section(p) for p in split_escaped(text)][:BLOCKS_MAX], f"Decision: {decision.kind}"

    def unanswered_blocks(self) -> tuple[list[dict[str, Any]], str]:
        """Recent questions the FAQ could not answer, most recent first, with counts."""
        try:
            groups = self.store.unanswered_groups(limit=UNANSWERED_LIMIT)
        except Exception as exc:  # noqa: BLE001 - any store failure is one line to staff
            logger.error("could not read unanswered questions: %s", type(exc).__name__)
            return [section("The list of unanswered questions is unavailable right now.")], (
                "Unanswered questions unavailable"
            )
        if not groups:
            return [section("No unanswered questions. :tada:")], "No unanswered questions"
        lines = [f"*Recent questions with no answer* (latest {len(groups)}):"]
        for g in groups:
            when = g.last_asked.strftime("%Y-%m-%d %H:%M UTC")
            lines.append(
                f"• ×{g.count} ({g.lang}, last {when}): {escape(' '.join(g.text.split()))}"
            )
        blocks = [section(p) for p in split_escaped("\n".join(lines))][:BLOCKS_MAX]
        return blocks, f"{len(groups)} unanswered questions"


def parse(text: str) -> tuple[str, str] | None:
    """``(subcommand, args)`` of the command text, or None when it is not one of ours."""
    head, _, rest = text.strip().partition(" ")
    sub = head.lower()
    if sub not in SUBCOMMANDS:
        return None
    args = " ".join(rest.split())
    if sub == "ask" and not args:
        return None
    if sub == "unanswered" and args:
        return None
    return sub, args
