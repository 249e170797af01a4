"""The console's "to review" page: what to check against the status page while an incident runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import groupby

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.admin.auth import AdminAuth
from bot.admin.routes import AdminBase
from bot.rhythm.alerts import AlertBoard
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
    ) -> None:
        super().__init__(auth=auth, alerts=alerts)
        self._items = items

    def routes(self) -> list[BaseRoute]:
        """The review route."""
        return [Route("/admin/review", self._page(self.review))]

    async def review(self, request: Request) -> Response:
        """The list, by incident and component, with what the status page says beside it."""
        items = self._items()
        groups = [
            (key, list(group))
            for key, group in groupby(items, key=lambda i: (i.incident_name, i.component))
        ]
        return self._render(request, "review.html", {"groups": groups, "count": len(items)})
