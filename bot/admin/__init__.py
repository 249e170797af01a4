"""The staff admin: server-rendered pages to keep the FAQ current, live."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.routing import BaseRoute

from bot.admin.auth import AdminAuth
from bot.admin.broadcasts import BroadcastPages
from bot.admin.console import ConsolePages, Grouper, LiveTemplates, QuestionRates, Renderers
from bot.admin.inbox import InboxPages
from bot.admin.review import ReviewPages
from bot.admin.routes import AdminPages, admin_off_routes
from bot.admin.sessions import AdminSessions, SignInThrottle
from bot.broadcast.watcher import Broadcaster
from bot.console.groups import UnansweredGroups
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.handoff.service import HandoffService
from bot.rhythm.alerts import AlertBoard
from bot.rhythm.review import ReviewItem
from bot.status.service import LiveStatusService
from bot.store import AppStore

logger = logging.getLogger(__name__)


def admin_routes(
    *,
    password: str | None,
    token: str | None,
    session_secret: str,
    faq_store: FaqStore,
    faq: FaqService,
    app_store: AppStore,
    broadcaster: Broadcaster | None = None,
    handoffs: HandoffService | None = None,
    status: LiveStatusService | None = None,
    alerts: AlertBoard | None = None,
    review: Callable[[], list[ReviewItem]] | None = None,
    grouper: Grouper | None = None,
    templates: LiveTemplates | None = None,
    renderers: Renderers | None = None,
    question_rates: QuestionRates | None = None,
) -> list[BaseRoute]:
    """The /admin routes (broadcast pages too, given a broadcaster); off without a secret."""
    allowed = tuple(s for s in (password, token) if s)
    if not allowed:
        logger.warning("admin is off: set FARO_ADMIN_PASSWORD or FARO_ADMIN_TOKEN to turn it on")
        return admin_off_routes()
    auth = AdminAuth(
        secrets_allowed=allowed,
        session_secret=session_secret,
        sessions=AdminSessions(app_store.engine),
    )
    # the console: dashboard, unanswered questions grouped by meaning, live templates
    grouper = grouper or Grouper(UnansweredGroups(app_store.engine), faq)
    console = ConsolePages(
        auth=auth,
        faq_store=faq_store,
        faq=faq,
        grouper=grouper,
        templates=templates,
        renderers=renderers,
        status=status,
        broadcaster=broadcaster,
        question_rates=question_rates,
        alerts=alerts,
    )
    pages = AdminPages(
        auth=auth,
        faq_store=faq_store,
        faq=faq,
        app_store=app_store,
        throttle=SignInThrottle(app_store.engine),
        alerts=alerts,
        groups=grouper.groups,
    )
    routes = [*console.routes(), *pages.routes()]
    if review is not None:
        routes.extend(ReviewPages(auth=auth, items=review, alerts=alerts).routes())
    if broadcaster is not None:
        routes.extend(BroadcastPages(auth=auth, broadcaster=broadcaster, alerts=alerts).routes())
    if handoffs is not None:
        inbox = InboxPages(
            auth=auth,
            handoffs=handoffs,
            faq=faq,
            faq_store=faq_store,
            status=status,
            subscriptions=broadcaster.subscriptions if broadcaster else None,
            alerts=alerts,
        )
        routes.extend(inbox.routes())
    return routes


__all__ = ["Grouper", "LiveTemplates", "admin_routes"]
