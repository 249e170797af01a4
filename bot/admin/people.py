"""The console's account pages: one's own account (password), and the admins' Accounts page."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.admin.accounts import GRANTABLE, Account, BadAccount
from bot.admin.routes import AdminBase

logger = logging.getLogger(__name__)


class AccountPages(AdminBase):
    """``/admin/account`` (everyone: set a password) and ``/admin/accounts`` (admins)."""

    def routes(self) -> list[BaseRoute]:
        """The account routes."""
        return [
            Route("/admin/account", self._page(self.own), methods=["GET", "POST"]),
            Route(
                "/admin/accounts",
                self._page(self.overview, role="admin"),
                methods=["GET", "POST"],
            ),
            Route(
                "/admin/accounts/{account_id:int}/{action}",
                self._page(self.change, role="admin"),
                methods=["POST"],
            ),
        ]

    # -- one's own account ---------------------------------------------------

    async def own(self, request: Request) -> Response:
        """Show the signed-in account; set its password."""
        account: Account = request.state.account
        context: dict[str, object] = {
            "welcome": request.query_params.get("welcome") == "1",
            "saved": request.query_params.get("saved") == "1",
        }
        if request.method == "GET":
            return self._render(request, "account.html", context)
        form = request.state.form
        password = form.get("password", "")
        if password != form.get("password2", ""):
            return self._render(request, "account.html", {**context, "refused": "mismatch"}, 400)
        try:
            await asyncio.to_thread(
                self._auth.accounts.set_password, account.id, password, actor=account.actor
            )
        except BadAccount as exc:
            return self._render(request, "account.html", {**context, "refused": str(exc)}, 400)
        # a new password ends every other session of this account
        await asyncio.to_thread(
            self._auth.sign_out_everywhere, account.name, keep=request.state.session
        )
        logger.info("admin: %s set a new password", account.name)
        return RedirectResponse("/admin/account?saved=1", status_code=303)

    # -- every account (admins) ------------------------------------------------

    async def overview(self, request: Request) -> Response:
        """Every account, the form to add one, recent changes; POST adds an account."""
        if request.method == "GET":
            return await self._overview(request, {})
        form = request.state.form
        roles = [r for r in GRANTABLE if form.get(f"role_{r}") == "1"]
        actor = self._actor(request)
        try:
            made = await asyncio.to_thread(
                self._auth.accounts.create,
                form.get("name", ""),
                email=form.get("email", ""),
                roles=roles,
                actor=actor,
            )
            token = await asyncio.to_thread(
                self._auth.accounts.issue_link, made.id, purpose="reset", actor=actor
            )
        except BadAccount as exc:
            return await self._overview(request, {"refused": str(exc), "form": form}, 400)
        logger.info("admin: account added by %s", actor)
        return await self._overview(request, {"made": made, "link": self._link_url(request, token)})

    async def change(self, request: Request) -> Response:
        """Change an account: its roles, disable, enable, or a one-time reset link."""
        me: Account = request.state.account
        account_id = int(request.path_params["account_id"])
        action = request.path_params["action"]
        form = request.state.form
        accounts = self._auth.accounts
        context: dict[str, object] = {}
        try:
            target = await asyncio.to_thread(accounts.get, account_id)
            if target is None:
                return self._render(request, "message.html", {"message": "not_found"}, 404)
            if action == "roles":
                roles = [r for r in GRANTABLE if form.get(f"role_{r}") == "1"]
                if target.id == me.id and "admin" not in roles:
                    raise BadAccount("you cannot take the admin role from yourself")
                await asyncio.to_thread(accounts.set_roles, target.id, roles, actor=me.actor)
            elif action in ("disable", "enable"):
                if target.id == me.id:
                    raise BadAccount("you cannot disable your own account")
                disable = action == "disable"
                await asyncio.to_thread(accounts.set_disabled, target.id, disable, actor=me.actor)
                if disable:
                    await asyncio.to_thread(self._auth.sign_out_everywhere, target.name)
            elif action == "reset":
                token = await asyncio.to_thread(
                    accounts.issue_link, target.id, purpose="reset", actor=me.actor
                )
                context = {"made": target, "link": self._link_url(request, token)}
            else:
                return self._render(request, "message.html", {"message": "not_found"}, 404)
        except BadAccount as exc:
            return await self._overview(request, {"refused": str(exc)}, 400)
        if context:
            return await self._overview(request, context)
        return RedirectResponse("/admin/accounts?saved=1", status_code=303)

    async def _overview(
        self, request: Request, context: dict[str, object], status: int = 200
    ) -> Response:
        accounts = await asyncio.to_thread(self._auth.accounts.all)
        events = await asyncio.to_thread(self._auth.accounts.events, 50)
        return self._render(
            request,
            "accounts.html",
            {
                "accounts": accounts,
                "events": events,
                "grantable": GRANTABLE,
                "saved": request.query_params.get("saved") == "1",
                "form": {},
                **context,
            },
            status,
        )

    @staticmethod
    def _link_url(request: Request, token: str) -> str:
        return str(request.base_url).rstrip("/") + "/admin/link/" + token
