"""The staff admin: server-rendered pages to keep the FAQ current, live."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.routing import BaseRoute

from bot.admin.auth import AdminAuth
from bot.admin.broadcasts import BroadcastPages
from bot.admin.inbox import InboxPages
from bot.admin.report import ReportPages
from bot.admin.review import ReviewPages
from bot.admin.routes import AdminPages, admin_off_routes
from bot.admin.sessions import AdminSessions, SignInThrottle
from bot.broadcast.watcher import Broadcaster
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.handoff.service import HandoffService
from bot.rhythm.alerts import AlertBoard
from bot.rhythm.marks import ReviewMarks
from bot.rhythm.questions import QuestionLog
from bot.rhythm.review import ReviewItem
from bot.status.model import StatusSnapshot
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
    snapshot: Callable[[], StatusSnapshot | None] | None = None,
    questions: QuestionLog | None = None,
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
    pages = AdminPages(
        auth=auth,
        faq_store=faq_store,
        faq=faq,
        app_store=app_store,
        throttle=SignInThrottle(app_store.engine),
        alerts=alerts,
    )
    routes = pages.routes()
    if review is not None:
        routes.extend(
            ReviewPages(
                auth=auth,
                items=review,
                alerts=alerts,
                marks=ReviewMarks(app_store.engine),
                faq_store=faq_store,
            ).routes()
        )
    if snapshot is not None:  # the post-incident reports
        routes.extend(
            ReportPages(
                auth=auth,
                snapshot=snapshot,
                engine=app_store.engine,
                questions=questions,
                alerts=alerts,
            ).routes()
        )
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


__all__ = ["admin_routes"]
