"""The admin's Inbox: conversations handed to a person, live, over the handoff service.

The page is a shell; ``/static/inbox.js`` polls ``/admin/inbox/data`` every two
seconds (which also marks the agent online) and posts claims, replies,
hand-backs and closes with the session's CSRF token. It is a client of the
same :class:`~bot.handoff.service.HandoffService` as the staff API.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.admin.auth import AdminAuth
from bot.admin.i18n import translator, ui_lang
from bot.admin.routes import AdminBase
from bot.broadcast.subscriptions import SubscriptionStore
from bot.core.languages import LANGUAGES
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.handoff.api import handoff_json
from bot.handoff.service import HandoffConflict, HandoffError, HandoffNotFound, HandoffService
from bot.handoff.store import Handoff, HandoffMessage
from bot.handoff.tables import ACTIVE, WAITING
from bot.handoff.touched import Touched
from bot.rhythm.alerts import AlertBoard
from bot.status.service import LiveStatusService

logger = logging.getLogger(__name__)

MAX_QUERY = 300
# Words the page's script shows, per UI language.
SCRIPT_WORDS = (
    "inbox_waiting", "inbox_mine", "inbox_others", "inbox_empty", "inbox_pick",
    "claim", "release", "close_handoff", "send", "reply_placeholder", "role_user",
    "role_bot", "role_agent", "not_delivered", "waited", "claimed_by_label",
    "approved_answers", "search", "insert", "status_answer", "version", "changed",
    "queue_length", "longest_wait", "handled_today", "agents_online", "subscribed_all",
    "subscribed_to", "not_subscribed", "touched", "faq_answered", "faq_offered",
    "incident_asked", "incident_not_current",
)  # fmt: skip


class InboxPages(AdminBase):
    """The Inbox page and the JSON it polls."""

    def __init__(
        self,
        *,
        auth: AdminAuth,
        handoffs: HandoffService,
        faq: FaqService | None = None,
        faq_store: FaqStore | None = None,
        status: LiveStatusService | None = None,
        subscriptions: SubscriptionStore | None = None,
        alerts: AlertBoard | None = None,
    ) -> None:
        super().__init__(auth=auth, alerts=alerts)
        self._subscriptions = subscriptions
        self._handoffs = handoffs
        self._faq = faq
        self._faq_store = faq_store
        self._status = status
        self._touched = Touched(
            handoffs.store.engine,
            faq=faq,
            faq_store=faq_store,
            live=status.live if status is not None else None,
        )

    def routes(self) -> list[BaseRoute]:
        """The inbox routes under /admin/inbox."""
        return [
            Route("/admin/inbox", self._page(self.page, role="agent")),
            Route("/admin/inbox/data", self._page(self.data, role="agent")),
            Route("/admin/inbox/answers", self._page(self.answers, role="agent")),
            Route(
                "/admin/inbox/{handoff_id:int}/{action}",
                self._page(self.act, role="agent"),
                methods=["POST"],
            ),
        ]

    def _agent(self, request: Request) -> str:
        return str(request.state.session.user)

    async def page(self, request: Request) -> Response:
        """The inbox shell; the script fills it."""
        t = translator(ui_lang(request))
        words = {key: t(key) for key in SCRIPT_WORDS}
        await asyncio.to_thread(self._handoffs.store.seen, self._agent(request))
        return self._render(request, "inbox.html", {"words": words, "agent": self._agent(request)})

    async def data(self, request: Request) -> Response:
        """Figures, the queue (oldest first) and the active handoffs, with transcripts."""
        agent = self._agent(request)
        store = self._handoffs.store
        await asyncio.to_thread(store.seen, agent)
        waiting = await asyncio.to_thread(self._handoffs.in_state, WAITING)
        active = await asyncio.to_thread(self._handoffs.in_state, ACTIVE)
        figures = await asyncio.to_thread(self._handoffs.figures)
        now = datetime.now(UTC)
        return JSONResponse(
            {
                "agent": agent,
                "now": now.isoformat().replace("+00:00", "Z"),
                "figures": {
                    "waiting": figures.waiting,
                    "longest_wait_s": figures.longest_wait_s,
                    "handled_today": figures.handled_today,
                    "agents_online": figures.agents_online,
                },
                "waiting": [await self._with_subscription(h, t) for h, t in waiting],
                "active": [await self._with_subscription(h, t) for h, t in active],
            },
            headers={"Cache-Control": "no-store"},
        )

    async def _with_subscription(
        self, handoff: Handoff, transcript: list[HandoffMessage]
    ) -> dict[str, Any]:
        """The handoff as the staff API shows it, with the customer's incident updates
        and what the conversation touched (FAQ entries, incidents)."""
        out = handoff_json(handoff, transcript)
        out["touched"] = await asyncio.to_thread(self._touched.of, handoff, transcript)
        found = None
        if self._subscriptions is not None:
            found = await asyncio.to_thread(self._subscriptions.get, handoff.conversation_id)
        out["subscription"] = (
            {"components": list(found.components)} if found is not None and found.active else None
        )
        return out

    async def act(self, request: Request) -> Response:
        """Claim, reply, release or close for the signed-in agent; errors as JSON."""
        handoff_id: int = request.path_params["handoff_id"]
        action: str = request.path_params["action"]
        agent = self._agent(request)
        try:
            if action == "claim":
                await self._handoffs.claim(handoff_id, agent)
            elif action == "reply":
                outcome = await self._handoffs.reply(
                    handoff_id, agent, request.state.form.get("text", "")
                )
                if not outcome.delivered:
                    error = f"not delivered: {outcome.message.error}"
                    return JSONResponse({"error": error}, status_code=502)
            elif action == "release":
                await self._handoffs.release(handoff_id, agent)
            elif action == "close":
                await self._handoffs.close(handoff_id, agent)
            else:
                return JSONResponse({"error": f"unknown action {action[:20]}"}, status_code=404)
        except HandoffNotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except HandoffConflict as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except HandoffError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True})

    async def answers(self, request: Request) -> Response:
        """What the bot says about a question: the closest FAQ answers and the status answer."""
        query = (request.query_params.get("q") or "").strip()[:MAX_QUERY]
        lang = request.query_params.get("lang") or "en"
        lang = lang if lang in LANGUAGES else "en"
        body: dict[str, Any] = {"faq": [], "status": None}
        if not query:
            return JSONResponse(body)
        if self._faq is not None:
            decision = await asyncio.to_thread(self._faq.decide, query, lang)
            for match in decision.matches[:3]:
                body["faq"].append(await asyncio.to_thread(self._faq_entry, match.entry.id, lang))
        if self._status is not None:
            reply = self._status.status_reply(query, lang)
            card = reply.status
            as_of = card.as_of.isoformat() if card and card.as_of else None
            body["status"] = {"text": reply.text, "as_of": as_of}
        return JSONResponse(body)

    def _faq_entry(self, faq_id: str, lang: str) -> dict[str, Any]:
        assert self._faq is not None
        found = self._faq.entry_answer(faq_id, lang)
        title, answer = found if found else (faq_id, "")
        out: dict[str, Any] = {"id": faq_id, "title": title, "answer": answer}
        stored = self._faq_store.get(faq_id) if self._faq_store else None
        if stored is not None:
            out["version"] = stored.version
            out["updated_at"] = stored.updated_at.isoformat()
        return out
