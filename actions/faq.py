"""``action_answer_faq``: answer from the FAQ, offer close choices, or decline honestly."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.choices import offered_faq_ids, pick
from actions.common import required, user_lang, user_text
from bot.core import BotMessage, Button, FaqAnswerer, Templates
from bot.rasa import payloads
from bot.rasa.dispatch import utter


class ActionAnswerFaq(Action):
    """Searches the answer center with the user's words, in their language."""

    def __init__(self, *, faq: FaqAnswerer, templates: Templates) -> None:
        self._faq = required(faq, "the FAQ", self.name())
        self._templates = required(templates, "templates", self.name())

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = user_lang(tracker)
        chosen = _chosen_faq(tracker)
        if chosen is not None:
            found = self._faq.entry_answer(chosen, lang)
            if found is not None:
                utter(dispatcher, BotMessage(found[1]))
            else:  # a stale button: the entry was retired since it was offered
                gone = self._templates.render("faq_choice_gone", lang)
                utter(dispatcher, BotMessage(gone, (self._human(lang),)))
            return []
        text = user_text(tracker)
        # Embedding is CPU work: keep the event loop free for other turns.
        decision = await asyncio.to_thread(self._faq.decide, text, lang)
        if decision.kind == "answer":
            _, answer = decision.matches[0].entry.answer_for(lang)
            utter(dispatcher, BotMessage(answer))
        elif decision.kind == "choose":
            buttons = tuple(
                Button(m.entry.question_for(lang)[1], payloads.choose_faq(m.entry.id))
                for m in decision.matches
            ) + (self._human(lang),)
            utter(dispatcher, BotMessage(self._templates.render("faq_choose", lang), buttons))
        else:
            # a database write: off the event loop, which serves every other turn meanwhile
            await asyncio.to_thread(
                self._faq.record_unanswered, text, lang, conversation_id=tracker.sender_id
            )
            decline = self._templates.render("faq_decline", lang)
            utter(dispatcher, BotMessage(decline, (self._human(lang),)))
        return []

    def _human(self, lang: str) -> Button:
        return Button(self._templates.render("button_human", lang), payloads.HUMAN)


def _chosen_faq(tracker: Tracker) -> str | None:
    """The FAQ id when the user pressed, or typed the position of, an offered choice."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent != payloads.CHOOSE_FAQ_INTENT:
        return None
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == payloads.FAQ_ID_ENTITY and entity.get("value"):
            return str(entity["value"])
    return pick(user_text(tracker), offered_faq_ids(tracker.events))
