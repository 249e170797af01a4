"""Where actions find their ports: the app calls :func:`configure` once at start."""

from __future__ import annotations

from dataclasses import dataclass

from actions.ports import FaqAnswerer, StatusService, SubscriptionService, Templates


class ServicesNotConfigured(RuntimeError):
    """An action ran before the app injected its services."""


@dataclass(frozen=True, slots=True)
class Services:
    """The ports every action may use."""

    faq: FaqAnswerer
    status: StatusService
    templates: Templates
    subscriptions: SubscriptionService | None = None


_services: Services | None = None


def configure(services: Services) -> None:
    """Install the services actions use (called by the app at start, or by tests)."""
    global _services
    _services = services


def get() -> Services:
    """Return the configured services, or fail loudly if the app did not configure them."""
    if _services is None:
        raise ServicesNotConfigured("actions.services.configure() was not called")
    return _services
