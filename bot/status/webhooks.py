"""Apply Statuspage webhook deliveries (incident or component updates) onto a snapshot."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.status.errors import FeedFormatError, WebhookError
from bot.status.model import (
    Component,
    ComponentStatus,
    Incident,
    PageIndicator,
    StatusSnapshot,
    coerce,
)
from bot.status.statuspage import parse_component, parse_incident
from bot.status.times import parse_time

logger = logging.getLogger(__name__)


def loads_webhook(raw: bytes | str) -> dict[str, Any]:
    """Decode and check a webhook body: a JSON object with an incident or a component."""
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookError("the webhook body is not JSON") from exc
    except RecursionError:  # a deeply nested body is garbage, not a crash
        raise WebhookError("the webhook body is nested too deeply") from None
    return check_webhook(payload)


def check_webhook(payload: object) -> dict[str, Any]:
    """``payload`` if it is a JSON object with an incident or a component; else WebhookError."""
    if not isinstance(payload, dict):
        raise WebhookError("the webhook body is not a JSON object")
    if not isinstance(payload.get("incident"), Mapping) and not isinstance(
        payload.get("component"), Mapping
    ):
        raise WebhookError("the webhook carries neither an incident nor a component")
    return payload


def apply_webhook(
    snapshot: StatusSnapshot | None, payload: Mapping[str, Any], *, received_at: datetime
) -> StatusSnapshot:
    """Return ``snapshot`` with the delivery applied (raises WebhookError, changes nothing)."""
    base = snapshot or StatusSnapshot()
    try:
        updated = _apply(base, payload)
    except (FeedFormatError, TypeError, AttributeError, KeyError, ValueError) as exc:
        raise WebhookError(f"the webhook payload is not usable ({exc})") from exc
    meta = payload.get("meta")
    generated = parse_time(meta.get("generated_at")) if isinstance(meta, Mapping) else None
    as_of = max(filter(None, (base.as_of, generated)), default=None)
    return replace(updated, as_of=as_of, fetched_at=received_at)


def _apply(base: StatusSnapshot, payload: Mapping[str, Any]) -> StatusSnapshot:
    """Apply what is not older than the state it would replace (Statuspage may deliver late).

    Each part is ordered by the payload's own timestamps: the page indicator by
    ``meta.generated_at`` against the snapshot's ``as_of``, an incident by its
    ``updated_at``, a component by its ``updated_at`` (or the update's ``created_at``).
    """
    snapshot = base
    page = payload.get("page")
    meta = payload.get("meta")
    generated = parse_time(meta.get("generated_at")) if isinstance(meta, Mapping) else None
    if _older(generated, base.as_of):
        logger.info("status webhook: page indicator of an older delivery ignored")
        page = None
    if isinstance(page, Mapping) and page.get("status_indicator") is not None:
        snapshot = replace(
            snapshot,
            indicator=coerce(PageIndicator, page["status_indicator"], what="page indicator"),
            description=str(page.get("status_description") or ""),
        )
    incident_raw = payload.get("incident")
    if isinstance(incident_raw, Mapping):
        incident = parse_incident(incident_raw)
        known = next(
            (i for i in (*base.incidents, *base.maintenances) if i.id == incident.id), None
        )
        if known is not None and _older(incident.updated_at, known.updated_at):
            logger.info("status webhook: older delivery of incident %s ignored", incident.id)
            incident_raw = None
    if isinstance(incident_raw, Mapping):
        snapshot = _upsert_incident(snapshot, incident)
        snapshot = _upsert_components(snapshot, incident.components)
        logger.info("status webhook: incident %s is now %s", incident.id, incident.status.value)
    component_raw = payload.get("component")
    if isinstance(component_raw, Mapping):
        component = parse_component(component_raw)
        change = payload.get("component_update")
        if isinstance(change, Mapping) and change.get("new_status"):
            status = coerce(ComponentStatus, change["new_status"], what="component status")
            component = replace(component, status=status)
        if isinstance(change, Mapping):
            moments = (component.updated_at, parse_time(change.get("created_at")))
            component = replace(component, updated_at=max(filter(None, moments), default=None))
        snapshot = _upsert_components(snapshot, (component,))
        logger.info("status webhook: component %r is now %s", component.name, component.status)
    return snapshot


def _upsert_incident(snapshot: StatusSnapshot, incident: Incident) -> StatusSnapshot:
    if incident.is_maintenance:
        kept = tuple(m for m in snapshot.maintenances if m.id != incident.id)
        return replace(snapshot, maintenances=(incident, *kept))
    others = tuple(i for i in snapshot.incidents if i.id != incident.id)
    return replace(snapshot, incidents=(incident, *others))


def _upsert_components(snapshot: StatusSnapshot, changed: tuple[Component, ...]) -> StatusSnapshot:
    if not changed:
        return snapshot
    by_id = {c.id: c for c in changed}
    for known in snapshot.components:
        if known.id in by_id and _older(by_id[known.id].updated_at, known.updated_at):
            logger.info("status webhook: older delivery of component %r ignored", known.name)
            by_id[known.id] = known
    merged = [by_id.pop(c.id, c) for c in snapshot.components]
    merged.extend(by_id.values())
    return replace(snapshot, components=tuple(merged))


def _older(moment: datetime | None, than: datetime | None) -> bool:
    """True when both are known and ``moment`` is strictly earlier (unknown never blocks)."""
    return moment is not None and than is not None and moment < than
