"""Pending confirmations, the per-address limit, and the audit of email and SMS subscribers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.channels.contact.tables import contact_events, contact_requests
from bot.db import as_utc
from bot.status.live import utc_now

MAX_CODE_ATTEMPTS = 5


class TooManyRequests(Exception):
    """The address got as many confirmations as allowed in the last hour."""


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A subscribe request waiting for its confirmation."""

    id: int
    channel: str
    address: str
    lang: str
    components: tuple[str, ...]
    secret: str
    expires_at: datetime
    confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContactEvent:
    """One line of a subscriber's audit."""

    at: datetime
    channel: str
    address: str
    event: str
    detail: str


class ContactStore:
    """Data access for subscribe requests and the contact audit (SQLite or PostgreSQL)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add_request(
        self,
        *,
        channel: str,
        address: str,
        lang: str,
        components: Sequence[str],
        secret: str,
        ttl_s: float,
        per_hour: int,
    ) -> int:
        """Record a request; raises :class:`TooManyRequests` past ``per_hour`` for the address."""
        now = utc_now()
        with self._engine.begin() as conn:
            recent = conn.execute(
                sa.select(sa.func.count())
                .select_from(contact_requests)
                .where(
                    contact_requests.c.channel == channel,
                    contact_requests.c.address == address,
                    contact_requests.c.created_at > now - timedelta(hours=1),
                )
            ).scalar_one()
            if recent >= per_hour:
                raise TooManyRequests(address)
            new_id = conn.execute(
                contact_requests.insert()
                .values(
                    channel=channel,
                    address=address,
                    lang=lang,
                    components="\n".join(components),
                    secret=secret,
                    attempts=0,
                    created_at=now,
                    expires_at=now + timedelta(seconds=ttl_s),
                )
                .returning(contact_requests.c.id)
            ).scalar_one()
            _event(conn, channel, address, "requested", f"lang={lang}")
        return int(new_id)

    def get(self, request_id: int) -> PendingRequest | None:
        """One request by id."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(contact_requests).where(contact_requests.c.id == request_id)
            ).first()
        return _request(row) if row is not None else None

    def latest(self, channel: str, address: str) -> PendingRequest | None:
        """The newest unconfirmed, unexpired request of an address."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(contact_requests)
                .where(
                    contact_requests.c.channel == channel,
                    contact_requests.c.address == address,
                    contact_requests.c.confirmed_at.is_(None),
                    contact_requests.c.expires_at > utc_now(),
                )
                .order_by(contact_requests.c.id.desc())
                .limit(1)
            ).first()
        return _request(row) if row is not None else None

    def spend_attempt(self, request_id: int) -> int:
        """Count one code attempt; returns the attempts made so far."""
        with self._engine.begin() as conn:
            conn.execute(
                contact_requests.update()
                .where(contact_requests.c.id == request_id)
                .values(attempts=contact_requests.c.attempts + 1)
            )
            return int(
                conn.execute(
                    sa.select(contact_requests.c.attempts).where(
                        contact_requests.c.id == request_id
                    )
                ).scalar_one()
            )

    def mark_confirmed(self, request_id: int) -> bool:
        """Mark a request confirmed; False when it already was (confirm is idempotent)."""
        with self._engine.begin() as conn:
            result = conn.execute(
                contact_requests.update()
                .where(
                    contact_requests.c.id == request_id,
                    contact_requests.c.confirmed_at.is_(None),
                )
                .values(confirmed_at=utc_now())
            )
        return result.rowcount == 1

    def log(self, channel: str, address: str, event: str, detail: str = "") -> None:
        """Add one line to the audit of an address."""
        with self._engine.begin() as conn:
            _event(conn, channel, address, event, detail)

    def events(self, channel: str, address: str) -> list[ContactEvent]:
        """The audit of an address, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(contact_events)
                .where(contact_events.c.channel == channel, contact_events.c.address == address)
                .order_by(contact_events.c.id)
            ).all()
        return [ContactEvent(as_utc(r.at), r.channel, r.address, r.event, r.detail) for r in rows]


def code_digest(key: str, request_secret: str, code: str) -> str:
    """A keyed hash of an SMS code (the code itself is never stored)."""
    message = f"{request_secret}:{code}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _event(conn: sa.Connection, channel: str, address: str, event: str, detail: str) -> None:
    conn.execute(
        contact_events.insert().values(
            at=utc_now(), channel=channel, address=address, event=event, detail=detail[:300]
        )
    )


def _request(row: sa.Row[tuple[object, ...]]) -> PendingRequest:
    return PendingRequest(
        id=int(row.id),
        channel=row.channel,
        address=row.address,
        lang=row.lang,
        components=tuple(c for c in str(row.components or "").split("\n") if c),
        secret=row.secret,
        expires_at=as_utc(row.expires_at),
        confirmed_at=as_utc(row.confirmed_at) if row.confirmed_at else None,
    )
