"""The console's "to review" page: what to check against the status page while an incident runs.

Each item (an FAQ entry or a template about an affected component) can be
confirmed ("still agrees with the status page") or edited; either takes it
off the list for the incident's current phase (see :mod:`bot.rhythm.marks`).
An FAQ entry saved in the editor after the phase began counts as edited by
whoever saved it (read from the FAQ audit).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from itertools import groupby

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.admin.auth import AdminAuth
from bot.admin.routes import AdminBase
from bot.db import StorageError
from bot.faqdb.store import FaqStore
from bot.rhythm.alerts import AlertBoard
from bot.rhythm.marks import ACTIONS, ReviewMark, ReviewMarks, key_of
from bot.rhythm.review import ReviewItem

logger = logging.getLogger(__name__)


class ReviewPages(AdminBase):
    """``GET /admin/review``: FAQ entries and templates about the incident's components."""

    def __init__(
        self,
        *,
        auth: AdminAuth,
        items: Callable[[], list[ReviewItem]],
        alerts: AlertBoard | None = None,
        marks: ReviewMarks | None = None,
        faq_store: FaqStore | None = None,
    ) -> None:
        super().__init__(auth=auth, alerts=alerts)
        self._items = items
        self._marks = marks
        self._faq_store = faq_store

    def routes(self) -> list[BaseRoute]:
        """The review routes."""
        return [
            Route("/admin/review", self._page(self.review)),
            Route(
                "/admin/review/mark",
                self._page(self.mark, role="editor"),
                methods=["POST"],
            ),
            Route(
                "/admin/alerts/dismiss",
                self._page(self.dismiss, role="viewer"),
                methods=["POST"],
            ),
        ]

    async def review(self, request: Request) -> Response:
        """The list, by incident and component, with what the status page says beside it."""
        try:
            items, done = await asyncio.to_thread(self.pending)
        except StorageError as exc:
            logger.error("review: %s", exc)
            return self._render(request, "message.html", {"error": str(exc)}, 503)
        groups = [
            (key, list(group))
            for key, group in groupby(items, key=lambda i: (i.incident_name, i.component))
        ]
        return self._render(
            request, "review.html", {"groups": groups, "count": len(items), "done": done}
        )

    def pending(self) -> tuple[list[ReviewItem], list[ReviewMark]]:
        """The items still to review, and the marks standing for this phase (newest first)."""
        items = self._items()
        if self._marks is None:
            return items, []
        marks = self._marks.of(items)
        pending = []
        for item in items:
            if key_of(item) in marks:
                continue
            edit = self._edited(item)
            if edit is not None:
                marks[key_of(item)] = self._marks.mark(
                    item, action="edited", actor=edit[0], at=edit[1]
                )
                continue
            pending.append(item)
        done = sorted(marks.values(), key=lambda m: m.at, reverse=True)
        return pending, done

    def _edited(self, item: ReviewItem) -> tuple[str, datetime] | None:
        """(who, when) when the FAQ entry was saved since the incident's phase began."""
        if item.kind != "faq" or self._faq_store is None or item.phase_since is None:
            return None
        changes = [c for c in self._faq_store.audit(limit=5, entry_id=item.key)]
        change = next((c for c in changes if c.action != "seed"), None)  # the first start's seed
        if change is not None and change.at >= item.phase_since:
            return change.actor, change.at
        return None

    async def mark(self, request: Request) -> Response:
        """Confirm or mark as edited one listed item (it must still be listed)."""
        form = request.state.form
        action = form.get("action")
        if self._marks is None or action not in ACTIONS:
            return self._render(request, "message.html", {"message": "review_gone"}, 400)
        wanted = (
            form.get("incident_id"),
            form.get("phase"),
            form.get("kind"),
            form.get("key"),
            form.get("component"),
        )
        marks = self._marks
        items = await asyncio.to_thread(self._items)
        item = next((i for i in items if key_of(i) == wanted), None)
        if item is None:
            return self._render(request, "message.html", {"message": "review_gone"}, 400)
        await asyncio.to_thread(marks.mark, item, action=action, actor=self._actor(request))
        return RedirectResponse("/admin/review", status_code=303)

    async def dismiss(self, request: Request) -> Response:
        """Dismiss one staff alert, on every replica."""
        key = request.state.form.get("key") or ""
        if self._alerts is None or not await asyncio.to_thread(
            self._alerts.dismiss, key, by=self._actor(request)
        ):
            return self._render(request, "message.html", {"message": "review_gone"}, 400)
        back = request.headers.get("referer", "")
        target = back if back.startswith(str(request.base_url) + "admin") else "/admin/review"
        return RedirectResponse(target, status_code=303)
