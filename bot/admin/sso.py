"""Optional single sign-on to the staff console with OpenID Connect (Authlib, joserfc).

The authorization code flow with PKCE (S256), a ``state`` and a ``nonce``, kept
in a short-lived signed cookie. The ID token's signature is checked against the
provider's JWKS, and its issuer, audience, expiry and nonce. Roles come from a
claim (``FARO_OIDC_ROLES_CLAIM``, default ``roles``: a list or a space-separated
string; unknown values are ignored); without any, ``FARO_OIDC_DEFAULT_ROLE``
(``viewer`` unless set; ``none`` refuses the sign-in). The provider is the
source of truth: roles are set again at each sign-in. An account disabled in the
console stays refused.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.admin.accounts import ROLES, Account, BadAccount, clean_name
from bot.admin.routes import AdminBase
from bot.db import StorageError

logger = logging.getLogger(__name__)

COOKIE = "faro_sso"
STATE_SECONDS = 600
DISCOVERY_TTL_S = 3600.0
ALGORITHMS = ["RS256", "ES256", "PS256"]


@dataclass(frozen=True, kw_only=True)
class OidcConfig:
    """Where the identity provider is and how its claims map to roles."""

    issuer: str
    client_id: str
    client_secret: str
    roles_claim: str = "roles"
    default_role: str = "viewer"  # "none": no sign-in without a role claim
    scope: str = "openid email profile"


class SsoFailed(Exception):
    """The sign-in did not succeed (logged without tokens; the page says so)."""


def roles_from_claims(claims: dict[str, Any], config: OidcConfig) -> list[str] | None:
    """The console roles these claims grant; None when no role at all (refused)."""
    raw = claims.get(config.roles_claim)
    values = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    roles = sorted({str(v).lower() for v in values} & set(ROLES))
    if roles:
        return [r for r in roles if r != "viewer"]
    if config.default_role in ROLES:
        return [] if config.default_role == "viewer" else [config.default_role]
    return None


class SsoPages(AdminBase):
    """``/admin/sso`` (to the provider) and ``/admin/sso/callback`` (back, signed in)."""

    def __init__(self, *, config: OidcConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._config = config
        self._meta: dict[str, Any] | None = None
        self._meta_at = 0.0

    def routes(self) -> list[BaseRoute]:
        """The two single sign-on routes."""
        return [
            Route("/admin/sso", self.start),
            Route("/admin/sso/callback", self.callback),
        ]

    async def _discovery(self, http: AsyncOAuth2Client) -> dict[str, Any]:
        if self._meta is None or time.monotonic() - self._meta_at > DISCOVERY_TTL_S:
            url = self._config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            response = await http.request("GET", url, withhold_token=True)
            response.raise_for_status()
            meta = response.json()
            if meta.get("issuer") != self._config.issuer:
                raise SsoFailed("the discovery document names another issuer")
            self._meta, self._meta_at = meta, time.monotonic()
        return self._meta

    def _client(self, request: Request) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self._config.client_id,
            client_secret=self._config.client_secret,
            scope=self._config.scope,
            redirect_uri=str(request.base_url).rstrip("/") + "/admin/sso/callback",
            code_challenge_method="S256",
            timeout=10.0,
        )

    async def start(self, request: Request) -> Response:
        """Send the browser to the provider, with a fresh state, nonce and PKCE verifier."""
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        try:
            async with self._client(request) as client:
                meta = await self._discovery(client)
                url, _ = client.create_authorization_url(
                    meta["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
                )
        except Exception as exc:  # noqa: BLE001 - the provider unreachable or broken
            logger.error("admin: single sign-on provider unavailable: %s", type(exc).__name__)
            return self._render(request, "login.html", {"message": "sso_failed", "sso": True}, 502)
        response = RedirectResponse(url, status_code=303)
        sealed = self._auth.seal({"s": state, "n": nonce, "v": verifier}, seconds=STATE_SECONDS)
        response.set_cookie(
            COOKIE,
            sealed,
            max_age=STATE_SECONDS,
            path="/admin/sso",
            httponly=True,
            samesite="lax",  # sent on the provider's top-level redirect back
            secure=request.url.scheme == "https",
        )
        return response

    async def callback(self, request: Request) -> Response:
        """Check what the provider sent back and sign the account in (or refuse)."""
        pending = self._auth.unseal(request.cookies.get(COOKIE))
        try:
            if pending is None:
                raise SsoFailed("no pending sign-in (cookie missing or expired)")
            given = request.query_params.get("state", "")
            if not hmac.compare_digest(given.encode(), str(pending["s"]).encode()):
                raise SsoFailed("state mismatch")
            if "error" in request.query_params or not request.query_params.get("code"):
                raise SsoFailed("the provider refused")
            claims = await self._exchange(request, pending)
            roles = roles_from_claims(claims, self._config)
            if roles is None:
                logger.warning("admin: single sign-on refused: no role")
                return self._fail(request, "sso_no_role")
            account = await asyncio.to_thread(self._account, claims, roles)
            if account is None:
                raise SsoFailed("the account is disabled")
            session = await asyncio.to_thread(self._auth.sign_in, account.name)
        except SsoFailed as exc:
            logger.warning("admin: single sign-on refused: %s", exc)
            return self._fail(request, "sso_failed")
        except StorageError as exc:
            logger.error("admin: database failure at single sign-on: %s", exc)
            return self._fail(request, "unavailable", 503)
        logger.info("admin: %s signed in with single sign-on", account.name)
        response = RedirectResponse("/admin", status_code=303)
        response.delete_cookie(COOKIE, path="/admin/sso")
        self._set_session(request, response, session)
        return response

    def _fail(self, request: Request, message: str, status: int = 403) -> Response:
        response = self._render(request, "login.html", {"message": message, "sso": True}, status)
        response.delete_cookie(COOKIE, path="/admin/sso")
        return response

    async def _exchange(self, request: Request, pending: dict[str, object]) -> dict[str, Any]:
        """The code for tokens; the ID token's verified claims."""
        try:
            async with self._client(request) as client:
                meta = await self._discovery(client)
                token = await client.fetch_token(
                    meta["token_endpoint"],
                    code=request.query_params["code"],
                    code_verifier=str(pending["v"]),
                )
                keys = await client.request("GET", meta["jwks_uri"], withhold_token=True)
                jwks = keys.raise_for_status().json()
        except Exception as exc:  # noqa: BLE001 - network, HTTP or OAuth errors: refused
            raise SsoFailed(f"token exchange failed ({type(exc).__name__})") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SsoFailed("no ID token")
        try:
            verified = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self._config.issuer},
                aud={"essential": True, "value": self._config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": str(pending["n"])},
            ).validate(verified.claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise SsoFailed(f"ID token refused ({type(exc).__name__})") from exc
        return dict(verified.claims)

    def _account(self, claims: dict[str, Any], roles: list[str]) -> Account | None:
        """The console account of these claims: made on first sign-in, roles kept in sync."""
        accounts = self._auth.accounts
        subject = f"{claims['iss']}|{claims['sub']}"[:400]
        account = accounts.by_sso(subject)
        if account is None:
            email = str(claims.get("email") or "")
            base = (
                clean_name(
                    str(claims.get("preferred_username") or claims.get("name") or email or "")
                )
                or "sso-" + str(claims["sub"])[:20]
            )
            for attempt in range(20):
                name = base if attempt == 0 else f"{base[:54]} ({attempt + 1})"
                try:
                    return accounts.create(
                        name, email=email, roles=roles, actor="system:sso", sso_subject=subject
                    )
                except BadAccount as exc:
                    if "email" in str(exc):
                        email = ""
            return None
        if account.disabled:
            return None
        if set(roles) != set(account.roles):
            account = accounts.set_roles(account.id, roles, actor="system:sso")
        return account
