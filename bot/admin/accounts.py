"""Staff console accounts: one per person, a set of roles each, argon2 password hashes.

Roles are a **set** per account, not a ladder: ``editor`` (FAQ, templates),
``communicator`` (announcements and broadcasts), ``agent`` (the inbox) and
``admin`` (accounts; implies every other role). Every signed-in account may view
(``viewer`` is what everyone has). Tables:

- ``admin_accounts``: name (unique, case-insensitive), email, roles, the argon2
  hash of the password (none until one is set), disabled, the single sign-on
  subject (``issuer|sub``) of accounts made by OpenID Connect.
- ``admin_links``: one-time sign-in links (first start, password resets): the
  SHA-256 of the token only, an expiry; a link is deleted when used.
- ``admin_account_events``: who changed which account, when, and how.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.db import StorageError, metadata, storage_error

ROLES = ("viewer", "editor", "communicator", "agent", "admin")
GRANTABLE = ("editor", "communicator", "agent", "admin")  # viewer: every account
MIN_PASSWORD = 10
MAX_PASSWORD = 1000
MAX_NAME = 60
LINK_LIFETIME = timedelta(hours=24)
FIRST_ADMIN = "admin"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$")

admin_accounts = sa.Table(
    "admin_accounts",
    metadata,
    sa.Column("id", sa.Integer, autoincrement=True),
    sa.Column("login", sa.String(MAX_NAME), nullable=False, unique=True),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("roles", sa.String(100), nullable=False),
    sa.Column("password_hash", sa.String(300)),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("sso_subject", sa.String(400), unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id", name="pk_admin_accounts"),
)

admin_links = sa.Table(
    "admin_links",
    metadata,
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("account_id", sa.Integer, nullable=False, index=True),
    sa.Column("purpose", sa.String(10), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id", name="pk_admin_links"),
)

admin_account_events = sa.Table(
    "admin_account_events",
    metadata,
    sa.Column("id", sa.Integer, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("account", sa.String(MAX_NAME), nullable=False),
    sa.Column("event", sa.String(30), nullable=False),
    sa.Column("detail", sa.String(300), nullable=False),
    sa.PrimaryKeyConstraint("id", name="pk_admin_account_events"),
)

Clock = Callable[[], datetime]


class AccountError(StorageError):
    """The account store could not be read or written."""


class BadAccount(ValueError):
    """Refused input (a clear message for the form); nothing was changed."""


@dataclass(frozen=True, slots=True)
class Account:
    """A staff member's account (never its password hash)."""

    id: int
    name: str
    email: str
    roles: frozenset[str]
    has_password: bool
    disabled: bool
    sso: bool

    def can(self, role: str) -> bool:
        """True when this account may do what ``role`` allows (admin may do everything)."""
        return role == "viewer" or "admin" in self.roles or role in self.roles

    @property
    def actor(self) -> str:
        """How the audit names this account."""
        return f"admin:{self.name}"


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """One change to an account."""

    at: datetime
    actor: str
    account: str
    event: str
    detail: str


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lookup_key(raw: str) -> str:
    """What a sign-in form's name field is matched with: a name or an email, any case."""
    return " ".join(raw.split())[:254].casefold()


def clean_name(raw: str) -> str:
    """An account name: one line, trimmed, at most 60 characters."""
    return " ".join(raw.split())[:MAX_NAME]


def parse_roles(raw: Iterable[str]) -> frozenset[str]:
    """Known grantable roles; raises :class:`BadAccount` on an unknown one."""
    roles = {r.strip().lower() for r in raw if r.strip()}
    unknown = roles - set(ROLES)
    if unknown:
        raise BadAccount(f"unknown role: {sorted(unknown)[0]}")
    return frozenset(roles - {"viewer"})


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadAccount(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadAccount("the password is too long")


class Accounts:
    """The account store (blocking I/O; call from a thread in async code)."""

    def __init__(self, engine: sa.Engine, *, clock: Clock = _utcnow) -> None:
        self._engine = engine
        self._clock = clock
        self._hasher = PasswordHasher()
        # verified when the name is unknown, so a wrong name costs as long as a wrong password
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sa.Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error(f"cannot {what}", exc, AccountError) from exc

    # -- reading -------------------------------------------------------------

    def all(self) -> list[Account]:
        """Every account, by name."""
        with self._transaction("list accounts") as conn:
            rows = conn.execute(sa.select(admin_accounts).order_by(admin_accounts.c.login)).all()
        return [_account(r) for r in rows]

    def get(self, account_id: int) -> Account | None:
        """The account with this id."""
        with self._transaction("read an account") as conn:
            row = conn.execute(
                sa.select(admin_accounts).where(admin_accounts.c.id == account_id)
            ).first()
        return _account(row) if row else None

    def by_name(self, name: str, *, email: bool = True) -> Account | None:
        """The account with this name (or email, unless ``email=False``), case-insensitive."""
        key = _lookup_key(name)
        if not key:
            return None
        match = admin_accounts.c.login == key
        if email:
            match = sa.or_(match, sa.func.lower(admin_accounts.c.email) == key)
        with self._transaction("read an account") as conn:
            row = conn.execute(
                sa.select(admin_accounts).where(match).order_by(admin_accounts.c.login != key)
            ).first()
        return _account(row) if row else None

    def needs_first_admin(self) -> bool:
        """True while no enabled admin account can sign in by itself (password or SSO)."""
        with self._transaction("read accounts") as conn:
            rows = conn.execute(
                sa.select(admin_accounts.c.roles).where(
                    admin_accounts.c.disabled.is_(False),
                    sa.or_(
                        admin_accounts.c.password_hash.is_not(None),
                        admin_accounts.c.sso_subject.is_not(None),
                    ),
                )
            ).all()
        return not any("admin" in r.roles.split() for r in rows)

    def events(self, limit: int = 200) -> list[AccountEvent]:
        """Changes to accounts, newest first."""
        t = admin_account_events
        with self._transaction("read account events") as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.id.desc()).limit(limit)).all()
        return [AccountEvent(_aware(r.at), r.actor, r.account, r.event, r.detail) for r in rows]

    # -- changing ------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        email: str = "",
        roles: Iterable[str] = (),
        actor: str,
        password: str | None = None,
        sso_subject: str | None = None,
    ) -> Account:
        """Add an account; raises :class:`BadAccount` on bad input or a taken name."""
        name = clean_name(name)
        email = email.strip()
        if not name:
            raise BadAccount("the account needs a name")
        if email and (len(email) > 254 or not _EMAIL.match(email)):
            raise BadAccount("the email address is not valid")
        granted = parse_roles(roles)
        if password is not None:
            _check_password(password)
        now = self._clock()
        with self._transaction("add an account") as conn:
            taken = conn.execute(
                sa.select(admin_accounts.c.id).where(admin_accounts.c.login == name.casefold())
            ).first()
            if taken:
                raise BadAccount("an account with this name exists already")
            conn.execute(
                admin_accounts.insert().values(
                    login=name.casefold(),
                    name=name,
                    email=email,
                    roles=" ".join(sorted(granted)),
                    password_hash=self._hasher.hash(password) if password else None,
                    disabled=False,
                    sso_subject=sso_subject,
                    created_at=now,
                    updated_at=now,
                )
            )
            self._event(
                conn, actor, name, "created", "roles: " + (", ".join(sorted(granted)) or "viewer")
            )
        account = self.by_name(name)
        assert account is not None
        return account

    def set_roles(self, account_id: int, roles: Iterable[str], *, actor: str) -> Account:
        """Replace the account's roles."""
        granted = parse_roles(roles)
        return self._update(
            account_id,
            {"roles": " ".join(sorted(granted))},
            actor=actor,
            event="roles",
            detail=", ".join(sorted(granted)) or "viewer",
        )

    def set_disabled(self, account_id: int, disabled: bool, *, actor: str) -> Account:
        """Disable (or enable again) an account."""
        event = "disabled" if disabled else "enabled"
        return self._update(account_id, {"disabled": disabled}, actor=actor, event=event, detail="")

    def set_password(self, account_id: int, password: str, *, actor: str) -> Account:
        """Set a new password (argon2 hash); raises :class:`BadAccount` if too short."""
        _check_password(password)
        values: dict[str, object] = {"password_hash": self._hasher.hash(password)}
        return self._update(account_id, values, actor=actor, event="password", detail="")

    def _update(
        self, account_id: int, values: dict[str, object], *, actor: str, event: str, detail: str
    ) -> Account:
        with self._transaction("change an account") as conn:
            row = conn.execute(
                sa.select(admin_accounts.c.name).where(admin_accounts.c.id == account_id)
            ).first()
            if row is None:
                raise BadAccount("no such account")
            conn.execute(
                admin_accounts.update()
                .where(admin_accounts.c.id == account_id)
                .values(**values, updated_at=self._clock())
            )
            self._event(conn, actor, row.name, event, detail)
        account = self.get(account_id)
        assert account is not None
        return account

    def _event(
        self, conn: sa.Connection, actor: str, account: str, event: str, detail: str
    ) -> None:
        conn.execute(
            admin_account_events.insert().values(
                at=self._clock(),
                actor=actor[:100],
                account=account,
                event=event,
                detail=detail[:300],
            )
        )

    # -- signing in ------------------------------------------------------------

    def verify(self, name: str, password: str) -> Account | None:
        """The enabled account whose password this is, else None (about constant time)."""
        key = _lookup_key(name)
        row = None
        if key and len(password) <= MAX_PASSWORD:
            with self._transaction("read an account") as conn:
                row = conn.execute(
                    sa.select(admin_accounts).where(
                        sa.or_(
                            admin_accounts.c.login == key,
                            sa.func.lower(admin_accounts.c.email) == key,
                        )
                    )
                ).first()
        stored = row.password_hash if row is not None and row.password_hash else self._dummy
        try:
            self._hasher.verify(stored, password[:MAX_PASSWORD])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or not row.password_hash or row.disabled:
            return None
        if self._hasher.check_needs_rehash(stored):
            with self._transaction("rehash a password") as conn:
                conn.execute(
                    admin_accounts.update()
                    .where(admin_accounts.c.id == row.id)
                    .values(password_hash=self._hasher.hash(password))
                )
        return _account(row)

    def by_sso(self, subject: str) -> Account | None:
        """The account made for this single sign-on subject."""
        with self._transaction("read an account") as conn:
            row = conn.execute(
                sa.select(admin_accounts).where(admin_accounts.c.sso_subject == subject)
            ).first()
        return _account(row) if row else None

    def issue_link(
        self, account_id: int, *, purpose: str, actor: str, lifetime: timedelta = LINK_LIFETIME
    ) -> str:
        """A new one-time sign-in token for the account (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._transaction("issue a sign-in link") as conn:
            conn.execute(admin_links.delete().where(admin_links.c.expires_at <= now))
            if purpose == "reset":  # a new reset link replaces the older ones
                conn.execute(
                    admin_links.delete().where(
                        admin_links.c.account_id == account_id, admin_links.c.purpose == "reset"
                    )
                )
            conn.execute(
                admin_links.insert().values(
                    id=_digest(token),
                    account_id=account_id,
                    purpose=purpose,
                    expires_at=now + lifetime,
                )
            )
            name = conn.execute(
                sa.select(admin_accounts.c.name).where(admin_accounts.c.id == account_id)
            ).scalar()
            self._event(conn, actor, str(name), "link", purpose)
        return token

    def redeem_link(self, token: str) -> Account | None:
        """The enabled account of a valid link, which is used up; None otherwise."""
        if not token or len(token) > 200:
            return None
        with self._transaction("use a sign-in link") as conn:
            row = conn.execute(
                sa.select(admin_links).where(admin_links.c.id == _digest(token))
            ).first()
            if row is None:
                return None
            gone = conn.execute(admin_links.delete().where(admin_links.c.id == row.id)).rowcount
            if gone != 1 or _aware(row.expires_at) <= self._clock():
                return None  # used by a concurrent request, or expired
        account = self.get(row.account_id)
        return account if account and not account.disabled else None

    def first_admin_link(self) -> str | None:
        """On a first start (no admin can sign in yet): the first admin's one-time token."""
        if not self.needs_first_admin():
            return None
        account = self.by_name(FIRST_ADMIN)
        if account is None:
            try:
                account = self.create(FIRST_ADMIN, roles=["admin"], actor="system:first-start")
            except BadAccount:  # another replica made it just now
                account = self.by_name(FIRST_ADMIN)
        if account is None or "admin" not in account.roles or account.disabled:
            return None
        return self.issue_link(account.id, purpose="first", actor="system:first-start")


def _account(row: sa.Row[tuple[object, ...]]) -> Account:
    return Account(
        id=int(row.id),
        name=str(row.name),
        email=str(row.email),
        roles=frozenset(str(row.roles).split()),
        has_password=bool(row.password_hash),
        disabled=bool(row.disabled),
        sso=row.sso_subject is not None,
    )
