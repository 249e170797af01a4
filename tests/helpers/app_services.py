"""AppServices for channel tests: real stores and broadcaster, the parts under test passed in."""

from __future__ import annotations

from typing import Any

from bot.broadcast.service import Subscriptions
from bot.faq_service import FaqService
from bot.services import AppServices
from bot.settings import Settings
from bot.status.live import LiveStatus
from bot.store import AppStore
from bot.templates import TemplateStore
from bot.wiring import build_broadcaster


def app_services(
    settings: Settings,
    *,
    store: AppStore,
    faq: FaqService,
    templates: TemplateStore,
    status: Any,
) -> AppServices:
    """Services around ``status`` (a fake or the real one) on the app database of ``store``."""
    live = getattr(status, "live", None) or LiveStatus()
    broadcaster = build_broadcaster(settings, store, templates, live)
    return AppServices(
        settings=settings,
        templates=templates,
        store=store,
        faq=faq,
        status=status,
        subscriptions=Subscriptions(broadcaster.subscriptions, templates=templates, live=live),
        broadcaster=broadcaster,
    )
