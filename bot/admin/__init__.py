"""The staff admin: server-rendered pages to keep the FAQ current, live."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.routing import BaseRoute

from bot.admin.accounts import Accounts
from bot.admin.auth import AdminAuth
from bot.admin.broadcasts import BroadcastPages
from bot.admin.console import ConsolePages, Grouper, LiveTemplates, QuestionRates, Renderers
from bot.admin.inbox import InboxPages
from bot.admin.people import AccountPages
from bot.admin.report import ReportPages
from bot.admin.review import ReviewPages
from bot.admin.routes import AdminPages
from bot.admin.sessions import AdminSessions, SignInThrottle
from bot.admin.sso import OidcConfig, SsoPages
from bot.broadcast.watcher import Broadcaster
from bot.console.groups import UnansweredGroups
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
    oidc: OidcConfig | None = None,
    grouper: Grouper | None = None,
    templates: LiveTemplates | None = None,
    renderers: Renderers | None = None,
    question_rates: QuestionRates | None = None,
) -> list[BaseRoute]:
    """The /admin routes (broadcast pages too, given a broadcaster).

    Per-person accounts sign in; ``password``/``token`` (the deployment's
    bootstrap secrets, optional) sign in an admin account of the given name.
    """
    auth = AdminAuth(
        secrets_allowed=tuple(s for s in (password, token) if s),
        session_secret=session_secret,
        sessions=AdminSessions(app_store.engine),
        accounts=Accounts(app_store.engine),
    )
    auth.sso_enabled = oidc is not None
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
    routes.extend(AccountPages(auth=auth, alerts=alerts).routes())
    if oidc is not None:
        routes.extend(SsoPages(config=oidc, auth=auth, alerts=alerts).routes())
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


def first_start_link(app_store: AppStore, base_url: str) -> str | None:
    """On a first start (no admin account can sign in yet): a one-time sign-in URL.

    The first admin account (``admin``) is made if missing; the link signs it
    in once, within 24 hours, and asks for a password. None once an admin can
    sign in. Blocking I/O.
    """
    token = Accounts(app_store.engine).first_admin_link()
    if token is None:
        return None
    url = base_url.rstrip("/") + "/admin/link/" + token
    # one line, as Jupyter prints its token URL: single use, expires, stored hashed
    logger.warning("Staff console: sign in as the first admin (one-time link): %s", url)
    return url


__all__ = ["Grouper", "LiveTemplates", "OidcConfig", "admin_routes", "first_start_link"]
