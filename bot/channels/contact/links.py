"""Signed links in emails and texts: confirm a subscription (expiring), unsubscribe (lasting).

Signed with a key derived from the app's session secret (itsdangerous, HMAC-SHA1
with a purpose-specific salt), so a link cannot be forged or altered, and a
confirmation link stops working after its time to live.
"""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from bot.settings import Settings

CONFIRM_PATH = "/subscribe/confirm"
UNSUBSCRIBE_PATH = "/subscribe/unsubscribe"


class LinkError(ValueError):
    """A link that was forged, altered or has expired."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code  # "forged" | "expired"


class Links:
    """Makes and reads the app's signed subscription links."""

    def __init__(self, *, secret: str, public_url: str, ttl_s: float) -> None:
        self.public_url = public_url.rstrip("/")
        self.ttl_s = ttl_s
        self._confirm = URLSafeTimedSerializer(secret, salt="faro.subscribe.confirm")
        self._unsubscribe = URLSafeSerializer(secret, salt="faro.subscribe.unsubscribe")

    def confirm_url(self, request_id: int, nonce: str) -> str:
        """The link that confirms subscribe request ``request_id`` (expires after ``ttl_s``)."""
        token = self._confirm.dumps([request_id, nonce])
        return f"{self.public_url}{CONFIRM_PATH}?t={quote(str(token))}"

    def read_confirm(self, token: str) -> tuple[int, str]:
        """(request id, nonce) of a confirmation token; raises :class:`LinkError`."""
        try:
            value = self._confirm.loads(token, max_age=int(self.ttl_s))
        except SignatureExpired:
            raise LinkError("this confirmation link has expired", code="expired") from None
        except BadSignature:
            raise LinkError("this confirmation link is not valid", code="forged") from None
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
            raise LinkError("this confirmation link is not valid", code="forged")
        return int(value[0]), str(value[1])

    def unsubscribe_token(self, channel: str, address: str) -> str:
        """The token that unsubscribes ``address`` from ``channel``."""
        return str(self._unsubscribe.dumps([channel, address]))

    def unsubscribe_url(self, channel: str, address: str) -> str:
        """The one-click unsubscribe link of an address (RFC 8058)."""
        token = quote(self.unsubscribe_token(channel, address))
        return f"{self.public_url}{UNSUBSCRIBE_PATH}?t={token}"

    def read_unsubscribe(self, token: str) -> tuple[str, str]:
        """(channel, address) of an unsubscribe token; raises :class:`LinkError`."""
        try:
            value = self._unsubscribe.loads(token)
        except BadSignature:
            raise LinkError("this unsubscribe link is not valid", code="forged") from None
        if not (isinstance(value, list) and len(value) == 2):
            raise LinkError("this unsubscribe link is not valid", code="forged")
        return str(value[0]), str(value[1])


def links_for(settings: Settings) -> Links:
    """The signed subscription links of this deployment (keyed by its session secret)."""
    return Links(
        secret=settings.web.session_secret,
        public_url=settings.contact.public_url,
        ttl_s=settings.contact.confirm_ttl_s,
    )
