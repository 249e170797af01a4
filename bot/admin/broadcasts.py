"""The admin's broadcast pages: subscribers, progress, announcements, a subscriber's deliveries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.admin.auth import AdminAuth
from bot.admin.i18n import STRINGS, translator, ui_lang
from bot.admin.routes import AdminBase
from bot.broadcast.announce import (
    MAX_CHARS,
    AnnouncementError,
    announcement_texts,
    new_key,
    preview,
    resolve_component,
    valid_key,
)
from bot.broadcast.outbox import STATES
from bot.broadcast.subscriptions import CHANNELS
from bot.broadcast.watcher import Broadcaster
from bot.channels.contact.store import ContactStore
from bot.core.languages import LANGUAGES
from bot.rhythm.alerts import AlertBoard
from bot.store import StoreError

logger = logging.getLogger(__name__)

REFRESH_S = 5
MAX_CONVERSATION_ID = 200
T = TypeVar("T")


class BroadcastPages(AdminBase):
    """Request handlers of the broadcast pages, over the broadcaster's stores."""

    def __init__(
        self, *, auth: AdminAuth, broadcaster: Broadcaster, alerts: AlertBoard | None = None
    ) -> None:
        super().__init__(auth=auth, alerts=alerts)
        self._broadcaster = broadcaster
        self._subscriptions = broadcaster.subscriptions
        self._outbox = broadcaster.outbox
        self._contacts = ContactStore(broadcaster.outbox.engine)  # email/SMS subscribe audit

    def routes(self) -> list[BaseRoute]:
        """The broadcast routes under /admin."""
        return [
            Route("/admin/broadcasts", self._page(self.overview)),
            Route(
                "/admin/broadcasts/new",
                self._page(self.new, role="communicator"),
                methods=["GET", "POST"],
            ),
            Route("/admin/broadcasts/{broadcast_id:int}", self._page(self.detail)),
            Route("/admin/deliveries", self._page(self.deliveries)),
            Route("/admin/broadcasts/email-preview", self._page(self.email_preview)),
        ]

    async def _db(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a database call off the event loop; failures become :class:`StoreError`."""
        try:
            return await asyncio.to_thread(call, *args, **kwargs)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"the app database failed: {type(exc).__name__}") from exc

    def _components(self) -> list[str]:
        """The live status page's components (names, page order); none before a first fetch."""
        snapshot = self._broadcaster.live.snapshot
        return [c.name for c in snapshot.leaf_components()] if snapshot is not None else []

    # -- overview and one broadcast -------------------------------------------

    async def overview(self, request: Request) -> Response:
        """Subscribers per channel and recent broadcasts with their delivery progress."""
        counts = await self._db(self._subscriptions.counts)
        broadcasts = await self._db(self._outbox.progress, limit=30)
        context = {
            "counts": counts,
            "channels": CHANNELS,
            "active": sum(n for k, n in counts.items() if k != "retired"),
            "broadcasts": broadcasts,
            "states": STATES,
            "refresh": REFRESH_S if any(not b.done for b in broadcasts) else None,
        }
        return self._render(request, "broadcasts.html", context)

    async def detail(self, request: Request) -> Response:
        """One broadcast's progress and the recipients it did not reach."""
        broadcast_id = int(request.path_params["broadcast_id"])
        found = await self._db(self._outbox.progress, broadcast_id=broadcast_id)
        if not found:
            return self._render(request, "message.html", {"message": "no_broadcast"}, 404)
        failures = await self._db(
            self._outbox.audit, broadcast_id=broadcast_id, states=("failed", "retired")
        )
        context = {
            "b": found[0],
            "states": STATES,
            "failures": failures,
            "sent": request.query_params.get("sent") == "1",
            "again": request.query_params.get("again") == "1",
            "refresh": None if found[0].done else REFRESH_S,
        }
        return self._render(request, "broadcast.html", context)

    # -- a subscriber's deliveries ---------------------------------------------

    async def deliveries(self, request: Request) -> Response:
        """What one conversation was sent, when and from which broadcast; its subscription."""
        conversation = request.query_params.get("conversation", "").strip()
        conversation = conversation[:MAX_CONVERSATION_ID]
        context: dict[str, Any] = {"conversation": conversation, "rows": [], "sub": None}
        if conversation:
            sub = await self._db(self._subscriptions.get, conversation)
            context["rows"] = await self._db(self._outbox.audit, conversation_id=conversation)
            spelled = {name.lower(): name for name in self._components()}
            context["sub"] = sub
            context["topics"] = [spelled.get(c, c) for c in sub.components] if sub else []
            channel, _, address = conversation.partition(":")
            if channel in ("email", "sms") and address:
                # requested, confirmed, unsubscribed (how), bounced: the subscribe audit
                events = await self._db(self._contacts.events, channel, address)
                t = translator(ui_lang(request))
                context["contact_events"] = [
                    (e.at, t(key) if (key := f"contact_event_{e.event}") in STRINGS else e.event, e)
                    for e in events
                ]
        return self._render(request, "deliveries.html", context)

    # -- a new announcement -------------------------------------------------------

    async def new(self, request: Request) -> Response:
        """The form; on POST, a preview (nothing written) or the send."""
        components = self._components()
        if request.method == "GET":
            # a staff alert's "announce" link prefills the form; nothing is sent from a GET
            query = request.query_params
            form = {k: query.get(k, "")[:MAX_CHARS] for k in (*LANGUAGES, "component")}
            if form["component"] not in components:
                form["component"] = ""
            form["key"] = new_key()
            return self._render(request, "broadcast_new.html", self._form(form, components))
        form = request.state.form
        fields = {k: form.get(k, "") for k in (*LANGUAGES, "component", "key")}
        t = translator(ui_lang(request))
        if not valid_key(fields["key"]):
            fields["key"] = new_key()
            context = {**self._form(fields, components), "error": t("announce_bad_key")}
            return self._render(request, "broadcast_new.html", context, 400)
        try:
            texts = announcement_texts(fields["en"], fields["es"])
            target = (
                [resolve_component(fields["component"], components)]
                if fields["component"].strip()
                else []
            )
        except AnnouncementError as exc:
            message = t(f"announce_{exc.code}").format(**exc.params)
            context = {**self._form(fields, components), "error": message}
            return self._render(request, "broadcast_new.html", context, 400)
        if form.get("action") == "send":
            return await self._send(request, texts, target, fields["key"])
        if await self._db(self._outbox.known, [fields["key"]]):
            # A form whose announcement went out (back button): previewing starts a new one.
            fields["key"] = new_key()
        subscribers = await self._db(self._subscriptions.active)
        previews = preview(
            self._broadcaster.composer,
            self._broadcaster.renderers,
            subscribers,
            texts,
            target,
            details=self._broadcaster.details,
        )
        context = {
            **self._form(fields, components),
            "previews": previews,
            "total": sum(p.recipients for p in previews),
            "texts": texts,
        }
        return self._render(request, "broadcast_new.html", context)

    async def email_preview(self, request: Request) -> Response:
        """The HTML part of an update email, for the preview's sandboxed frame.

        Its own response, not ``srcdoc``: the email's inline styles need a policy
        the console's pages do not grant, and the frame gets no scripts, no
        requests, no forms (``sandbox``) whatever the text holds.
        """
        lang = request.query_params.get("lang", "en")
        text = request.query_params.get("text", "")[: 4 * MAX_CHARS]
        render = self._broadcaster.details.get("email")
        if lang not in LANGUAGES or not text.strip() or render is None:
            return Response("nothing to preview", status_code=400, media_type="text/plain")
        html = render(text, lang).html
        return Response(
            html,
            media_type="text/html; charset=utf-8",
            headers={
                "Cache-Control": "no-store",
                "X-Frame-Options": "SAMEORIGIN",
                "Content-Security-Policy": (
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                    "frame-ancestors 'self'; sandbox"
                ),
            },
        )

    async def _send(
        self, request: Request, texts: dict[str, str], target: list[str], key: str
    ) -> Response:
        actor = self._actor(request)
        broadcast_id = await self._db(
            self._broadcaster.announce, texts, components=target, created_by=actor, key=key
        )
        if broadcast_id is not None:
            logger.info("admin: %s sent announcement %d", actor, broadcast_id)
            return RedirectResponse(f"/admin/broadcasts/{broadcast_id}?sent=1", status_code=303)
        existing = await self._db(self._outbox.broadcast_id, key)
        logger.info("admin: %s re-submitted an announcement already sent", actor)
        if existing is None:  # pragma: no cover - a key is only known once written
            return RedirectResponse("/admin/broadcasts", status_code=303)
        return RedirectResponse(f"/admin/broadcasts/{existing}?again=1", status_code=303)

    @staticmethod
    def _form(fields: dict[str, str], components: list[str]) -> dict[str, Any]:
        return {
            "form": fields,
            "components": components,
            "max_chars": MAX_CHARS,
            "previews": None,
            "total": 0,
            "texts": {},
        }
