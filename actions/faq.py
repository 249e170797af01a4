"""``action_answer_faq``: answer from the FAQ, offer close choices, or decline honestly."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.choices import offered_faq_ids, pick
from actions.common import HUMAN_PAYLOAD, choose_payload, user_lang, user_text, utter
from actions.ports import Reply


class ActionAnswerFaq(Action):
    """Searches the answer center with the user's words, in their language."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        svc = services.get()
        lang = user_lang(tracker)
        chosen = _chosen_faq(tracker)
        if chosen is not None:
            found = svc.faq.entry_answer(chosen, lang)
            if found is not None:
                utter(dispatcher, Reply(found[1]))
            else:  # a stale button: the entry was retired since it was offered
                human = ((svc.templates.render("button_human", lang), HUMAN_PAYLOAD),)
                utter(dispatcher, Reply(svc.templates.render("faq_choice_gone", lang), human))
            return []
        text = user_text(tracker)
        # Embedding is CPU work: keep the event loop free for other turns.
        decision = await asyncio.to_thread(svc.faq.decide, text, lang)
        if decision.kind == "answer":
            _, answer = decision.matches[0].entry.answer_for(lang)
            utter(dispatcher, Reply(answer))
        elif decision.kind == "choose":
            buttons: tuple[tuple[str, str], ...] = tuple(
                (m.entry.question_for(lang)[1], choose_payload(m.entry.id))
                for m in decision.matches
            ) + ((svc.templates.render("button_human", lang), HUMAN_PAYLOAD),)
            utter(dispatcher, Reply(svc.templates.render("faq_choose", lang), buttons))
        else:
            svc.faq.record_unanswered(text, lang, conversation_id=tracker.sender_id)
            buttons = ((svc.templates.render("button_human", lang), HUMAN_PAYLOAD),)
            utter(dispatcher, Reply(svc.templates.render("faq_decline", lang), buttons))
        return []


def _chosen_faq(tracker: Tracker) -> str | None:
    """The FAQ id when the user pressed, or typed the position of, an offered choice."""
    if (tracker.latest_message.get("intent") or {}).get("name") != "choose_faq":
        return None
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "faq_id" and entity.get("value"):
            return str(entity["value"])
    return pick(user_text(tracker), offered_faq_ids(tracker.events))
