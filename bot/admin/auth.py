"""Admin sign-in: per-person accounts (bootstrap secrets from the environment too),
a signed session cookie, CSRF tokens.

The cookie holds ``base64(json).mac``: the account name (for the audit), a
random nonce and an expiry. The CSRF token is a MAC of the nonce, so it is
bound to the session; a new nonce is issued at login. A signed-in session is
also recorded server-side (:class:`bot.admin.sessions.AdminSessions`): signing
out deletes it, and a cookie without its record is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from bot.admin.accounts import Account, Accounts, BadAccount
from bot.admin.sessions import AdminSessions

COOKIE = "faro_admin"
SESSION_SECONDS = 8 * 3600
MAX_NAME = 60


@dataclass(frozen=True, slots=True)
class Session:
    """Who is using the admin (None before login) and the session's nonce."""

    user: str | None
    nonce: str
    expires: int


class AdminAuth:
    """Checks the admin secret and signs, reads and protects admin sessions."""

    def __init__(
        self,
        *,
        secrets_allowed: tuple[str, ...],
        session_secret: str,
        sessions: AdminSessions,
        accounts: Accounts,
    ) -> None:
        self._allowed = tuple(s.encode() for s in secrets_allowed if s)
        self.accounts = accounts
        self.sso_enabled = False  # the login page offers single sign-on when True
        # Changing the admin secret signs everyone out.
        material = b"\0".join((b"faro-admin", session_secret.encode(), *self._allowed))
        self._key = hashlib.sha256(material).digest()
        self._sessions = sessions

    def check_secret(self, given: str) -> bool:
        """True when ``given`` is the admin password or token (constant time)."""
        data = given.encode()
        if not self._allowed:
            return False
        return any(hmac.compare_digest(data, s) for s in self._allowed)

    def new_session(self, user: str | None) -> Session:
        """A fresh session with a new nonce."""
        return Session(user, secrets.token_urlsafe(18), int(time.time()) + SESSION_SECONDS)

    def sign_in(self, user: str) -> Session:
        """A new signed-in session for ``user``, recorded server-side (blocking I/O)."""
        session = self.new_session(user)
        self._sessions.start(session.nonce, user=user, lifetime=timedelta(seconds=SESSION_SECONDS))
        return session

    def sign_out(self, session: Session) -> None:
        """Revoke ``session`` everywhere: its cookie is refused from now on (blocking I/O)."""
        self._sessions.revoke(session.nonce)

    def sign_out_everywhere(self, user: str, *, keep: Session | None = None) -> None:
        """Revoke every session of ``user`` (but ``keep``): disabled, new password (I/O)."""
        self._sessions.revoke_user(user, keep=keep.nonce if keep else None)

    def bootstrap(self, name: str, secret: str) -> Account | None:
        """Sign-in with the deployment's bootstrap secret: an admin account of ``name``.

        The account is made (role admin) if there is none of that name; an
        existing account must be an enabled admin. Blocking I/O.
        """
        name = clean_name(name)
        if not name or not self.check_secret(secret):
            return None
        account = self.accounts.by_name(name, email=False)
        if account is None:
            try:
                account = self.accounts.create(name, roles=["admin"], actor="system:bootstrap")
            except BadAccount:
                account = self.accounts.by_name(name, email=False)
        if account is None or account.disabled or "admin" not in account.roles:
            return None
        return account

    def account(self, session: Session) -> Account | None:
        """The enabled account of a signed-in session (I/O)."""
        if session.user is None:
            return None
        account = self.accounts.by_name(session.user, email=False)
        return account if account is not None and not account.disabled else None

    def seal(self, data: dict[str, object], *, seconds: int) -> str:
        """``data`` signed and expiring (for short-lived cookies such as the SSO state)."""
        payload = json.dumps({"d": data, "e": int(time.time()) + seconds})
        body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return f"{body}.{self._mac('seal:' + body)}"

    def unseal(self, value: str | None) -> dict[str, object] | None:
        """The data of a :meth:`seal` value, or None when forged, malformed or expired."""
        if not value or len(value) > 4000 or not value.isascii():
            return None
        body, _, mac = value.partition(".")
        if not hmac.compare_digest(mac, self._mac("seal:" + body)):
            return None
        try:
            raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            data, expires = raw["d"], int(raw["e"])
        except (ValueError, KeyError, TypeError):
            return None
        return data if isinstance(data, dict) and expires >= time.time() else None

    def current(self, value: str | None) -> Session | None:
        """The session of a cookie value; a signed-in one only while not signed out (I/O)."""
        session = self.decode(value)
        if session is None or session.user is None:
            return session
        return session if self._sessions.alive(session.nonce) else None

    def encode(self, session: Session) -> str:
        """The cookie value for ``session``."""
        payload = json.dumps({"u": session.user, "n": session.nonce, "e": session.expires})
        body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return f"{body}.{self._mac('session:' + body)}"

    def decode(self, value: str | None) -> Session | None:
        """The session in a cookie value, or None when forged, malformed or expired."""
        if not value or len(value) > 1000 or not value.isascii():
            return None
        body, _, mac = value.partition(".")
        if not hmac.compare_digest(mac, self._mac("session:" + body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            session = Session(data["u"], str(data["n"]), int(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires < time.time() or not isinstance(session.user, str | None):
            return None
        return session

    def csrf_token(self, session: Session) -> str:
        """The CSRF token every POST of this session must carry."""
        return self._mac("csrf:" + session.nonce)

    def csrf_ok(self, session: Session | None, token: str | None) -> bool:
        """True when ``token`` is this session's CSRF token."""
        if session is None or not token or not token.isascii():
            return False
        return hmac.compare_digest(token, self.csrf_token(session))

    def _mac(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def clean_name(raw: str) -> str:
    """A staff name fit for the audit trail: one line, trimmed, at most 60 characters."""
    return " ".join(raw.split())[:MAX_NAME]
