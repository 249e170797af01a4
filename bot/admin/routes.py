"""The admin's pages: entries, preview, audit; login and logout (the console has the rest)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.admin.accounts import ROLES, Account
from bot.admin.auth import COOKIE, SESSION_SECONDS, AdminAuth, Session
from bot.admin.forms import BadForm, entry_to_form, form_to_dict, read_form
from bot.admin.i18n import UI_COOKIE, UI_LANGS, translator, ui_lang
from bot.admin.sessions import SignInThrottle
from bot.console.groups import UnansweredGroups
from bot.core.languages import DEFAULT_LANG, LANGUAGES
from bot.db import StorageError
from bot.faq_service import FaqService
from bot.faqdb.codec import validate_edit
from bot.faqdb.errors import FaqStoreError, UnknownEntry
from bot.faqdb.store import FaqStore
from bot.rhythm.alerts import AlertBoard
from bot.store import AppStore, StoreError

logger = logging.getLogger(__name__)

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
)
_env.filters["pretty"] = lambda value: json.dumps(value, ensure_ascii=False, indent=1)
Handler = Callable[[Request], Awaitable[Response]]
STATIC_DIR = Path(__file__).parent / "static"


class AdminBase:
    """What every admin pages class shares: the session guard, CSRF and page rendering."""

    def __init__(self, *, auth: AdminAuth, alerts: AlertBoard | None = None) -> None:
        self._auth = auth
        self._alerts = alerts

    # -- plumbing ----------------------------------------------------------

    def _page(self, handler: Handler, *, role: str = "viewer") -> Handler:
        """Require a signed-in session of an enabled account that has ``role``;
        on POST, a valid CSRF token before anything else.

        ``role`` is what the page needs (viewer, editor, communicator, agent,
        admin; see :mod:`bot.admin.accounts`): without it, a 403 page.
        """
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")

        async def guarded(request: Request) -> Response:
            try:
                session, account = await asyncio.to_thread(self._signed_in, request)
            except StorageError as exc:
                logger.error("admin: database failure: %s", exc)
                return self._render(request, "message.html", {"message": "unavailable"}, 503)
            if session is None or account is None:
                return RedirectResponse("/admin/login", status_code=303)
            request.state.session = session
            request.state.account = account
            if not account.can(role):
                logger.warning(
                    "admin: %s lacks role %s for %s", account.name, role, request.url.path
                )
                return self._render(request, "message.html", {"message": "forbidden"}, 403)
            if request.method == "POST":
                try:
                    request.state.form = await read_form(request)
                except BadForm:
                    return self._render(request, "message.html", {"message": "csrf"}, 403)
                if not self._auth.csrf_ok(session, request.state.form.get("csrf")):
                    logger.warning("admin: refused a POST without a valid CSRF token")
                    return self._render(request, "message.html", {"message": "csrf"}, 403)
            try:
                return await handler(request)
            except StoreError as exc:
                logger.error("admin: database failure: %s", exc)
                return self._render(request, "message.html", {"error": str(exc)}, 503)

        return guarded

    def _signed_in(self, request: Request) -> tuple[Session | None, Account | None]:
        """The session of the request's cookie and its enabled account (blocking I/O)."""
        session = self._auth.current(request.cookies.get(COOKIE))
        if session is None or session.user is None:
            return None, None
        return session, self._auth.account(session)

    def _render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        lang = ui_lang(request)
        session: Session | None = getattr(request.state, "session", None)
        account: Account | None = getattr(request.state, "account", None)
        page = _env.get_template(name).render(
            t=translator(lang),
            ui=lang,
            ui_langs=UI_LANGS,
            account=account,
            can=account.can if account else (lambda role: False),
            user=account.name if account else None,
            csrf=self._auth.csrf_token(session) if session else "",
            path=request.url.path,
            staff_alerts=self._alerts.active() if self._alerts and account else [],
            **{"message": None, "error": None, "sso": self._auth.sso_enabled, **context},
        )
        response = HTMLResponse(page, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
        if request.query_params.get("ui") in UI_LANGS:
            response.set_cookie(
                UI_COOKIE, lang, max_age=365 * 86400, path="/admin", samesite="strict"
            )
        return response

    def _set_session(self, request: Request, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self._auth.encode(session),
            max_age=SESSION_SECONDS,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )

    def _actor(self, request: Request) -> str:
        account: Account = request.state.account
        return account.actor


class AdminPages(AdminBase):
    """Request handlers of the admin, over the FAQ store, the live index and the app store."""

    def __init__(
        self,
        *,
        auth: AdminAuth,
        faq_store: FaqStore,
        faq: FaqService,
        app_store: AppStore,
        throttle: SignInThrottle,
        alerts: AlertBoard | None = None,
        groups: UnansweredGroups | None = None,
    ) -> None:
        super().__init__(auth=auth, alerts=alerts)
        self._groups = groups  # an entry made from a group of unanswered questions closes it
        self._throttle = throttle
        self._faq_store = faq_store
        self._faq = faq
        self._app_store = app_store

    def routes(self) -> list[BaseRoute]:
        """The admin routes under /admin."""
        return [
            Route("/admin/entries", self._page(self.entries)),
            Route("/admin/login", self.login, methods=["GET", "POST"]),
            Route("/admin/link/{token}", self.link),
            Mount("/admin/static", StaticFiles(directory=STATIC_DIR), name="admin-static"),
            Route("/admin/logout", self._page(self.logout), methods=["POST"]),
            Route(
                "/admin/entries/new",
                self._page(self.new_entry, role="editor"),
                methods=["GET", "POST"],
            ),
            Route(
                "/admin/entries/{faq_id}",
                self._page(self.edit_entry, role="editor"),
                methods=["GET", "POST"],
            ),
            Route(
                "/admin/entries/{faq_id}/retire",
                self._page(self.retire, role="editor"),
                methods=["POST"],
            ),
            Route(
                "/admin/entries/{faq_id}/restore",
                self._page(self.restore, role="editor"),
                methods=["POST"],
            ),
            Route("/admin/preview", self._page(self.preview)),
            Route(
                "/admin/unanswered/paraphrase",
                self._page(self.add_paraphrase, role="editor"),
                methods=["POST"],
            ),
            Route("/admin/audit", self._page(self.audit)),
        ]

    async def _publish(self) -> None:
        """Apply the saved change to this replica's index now (others poll)."""
        try:
            await asyncio.to_thread(self._faq.refresh)
        except Exception as exc:  # noqa: BLE001 - saved; the reloader retries
            logger.error("admin: saved, but the index did not refresh yet: %s", exc)

    # -- login -------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        """Show the login form, or check the secret and start a session."""
        try:
            session = await asyncio.to_thread(self._auth.current, request.cookies.get(COOKIE))
        except StorageError as exc:
            logger.error("admin: database failure: %s", exc)
            return self._render(request, "message.html", {"message": "unavailable"}, 503)
        if request.method == "GET":
            if session is None:
                session = self._auth.new_session(None)
            request.state.session = session
            response = self._render(request, "login.html", {})
            self._set_session(request, response, session)
            return response
        try:
            form = await read_form(request)
        except BadForm:
            form = {}
        request.state.session = session
        if not self._auth.csrf_ok(session, form.get("csrf")):
            return self._render(request, "message.html", {"message": "csrf"}, 403)
        name = " ".join(form.get("name", "").split())[:254]  # an account name or email
        try:
            # failures count against the account, whether named by its name or its email
            known = await asyncio.to_thread(self._auth.accounts.by_name, name) if name else None
            who = known.name if known else name
            keys = (f"account:{who.casefold()}", f"address:{client_address(request)}")
            return await self._check_sign_in(request, name, form.get("password", ""), keys)
        except StorageError as exc:
            logger.error("admin: database failure at sign-in: %s", exc)
            return self._render(request, "login.html", {"message": "unavailable"}, 503)

    async def _check_sign_in(
        self, request: Request, name: str, password: str, keys: tuple[str, str]
    ) -> Response:
        wait = await asyncio.to_thread(self._throttle.wait_s, keys)
        if wait > 0:  # the secret is not even checked while throttled
            logger.warning("admin: sign-in refused for %d s after repeated failures", wait)
            response = self._render(request, "login.html", {"message": "too_many"}, 429)
            response.headers["Retry-After"] = str(wait)
            return response
        account = None
        if name:
            account = await asyncio.to_thread(self._auth.accounts.verify, name, password)
            if account is None:  # the deployment's bootstrap password or token
                account = await asyncio.to_thread(self._auth.bootstrap, name, password)
        if account is None:
            logger.warning("admin: failed sign-in")
            await asyncio.to_thread(self._throttle.failed, keys)
            return self._render(request, "login.html", {"message": "bad_login"}, 401)
        await asyncio.to_thread(self._throttle.succeeded, keys)
        logger.info("admin: %s signed in", account.name)
        redirect = RedirectResponse("/admin", status_code=303)
        session = await asyncio.to_thread(self._auth.sign_in, account.name)
        self._set_session(request, redirect, session)
        return redirect

    async def link(self, request: Request) -> Response:
        """A one-time sign-in link (first start, reset): sign in, then set a password."""
        token = request.path_params["token"]
        try:
            account = await asyncio.to_thread(self._auth.accounts.redeem_link, token)
            if account is None:
                logger.warning("admin: refused an unknown, used or expired sign-in link")
                return self._render(request, "message.html", {"message": "bad_link"}, 410)
            session = await asyncio.to_thread(self._auth.sign_in, account.name)
        except StorageError as exc:
            logger.error("admin: database failure at sign-in: %s", exc)
            return self._render(request, "message.html", {"message": "unavailable"}, 503)
        logger.info("admin: %s signed in with a one-time link", account.name)
        redirect = RedirectResponse("/admin/account?welcome=1", status_code=303)
        self._set_session(request, redirect, session)
        return redirect

    async def logout(self, request: Request) -> Response:
        """End the session, here and on every replica (the old cookie is refused afterwards)."""
        await asyncio.to_thread(self._auth.sign_out, request.state.session)
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(COOKIE, path="/admin")
        return response

    # -- entries -----------------------------------------------------------

    async def entries(self, request: Request) -> Response:
        """List and search entries."""
        query = request.query_params.get("q", "")[:200]
        retired = request.query_params.get("retired") == "1"
        found = await asyncio.to_thread(self._faq_store.search, query, include_retired=retired)
        return self._render(
            request, "entries.html", {"entries": found, "q": query, "retired": retired}
        )

    async def new_entry(self, request: Request) -> Response:
        """Show an empty (or prefilled) entry form, or add the entry."""
        if request.method == "GET":
            form = {"id": "", "tags": ""}
            lang = request.query_params.get("lang", "en")
            if lang in LANGUAGES:
                form[f"question_{lang}"] = request.query_params.get("question", "")[:1000]
                form[f"paraphrases_{lang}"] = request.query_params.get("paraphrases", "")[:5000]
            form["group"] = request.query_params.get("group", "")[:20]
            return self._render(request, "edit.html", {"form": form, "stored": None})
        form = request.state.form
        try:
            entry = validate_edit(form_to_dict(form))
            await asyncio.to_thread(self._faq_store.add, entry, actor=self._actor(request))
        except FaqStoreError as exc:
            context = {"form": form, "stored": None, "refused": str(exc)}
            return self._render(request, "edit.html", context, 400)
        group = _int(form.get("group"))
        if group is not None and self._groups is not None:
            await asyncio.to_thread(self._close_group, group, entry.id, self._actor(request))
        await self._publish()
        return RedirectResponse(f"/admin/entries/{quote(entry.id)}?saved=1", status_code=303)

    def _close_group(self, group_id: int, faq_id: str, actor: str) -> None:
        """The group of unanswered questions the new entry was made from is answered now."""
        assert self._groups is not None
        questions = self._groups.questions(group_id, limit=200)
        self._groups.close(
            group_id, state="mapped", actor=actor, questions=questions, faq_id=faq_id
        )

    async def edit_entry(self, request: Request) -> Response:
        """Show an entry's form, or save the edit."""
        faq_id = request.path_params["faq_id"]
        stored = await asyncio.to_thread(self._faq_store.get, faq_id)
        if stored is None:
            return self._render(request, "message.html", {"message": "not_found"}, 404)
        if request.method == "GET":
            context = {
                "form": entry_to_form(stored.entry),
                "stored": stored,
                "saved": request.query_params.get("saved") == "1",
            }
            return self._render(request, "edit.html", context)
        form = request.state.form
        try:
            entry = validate_edit(form_to_dict(form, base=stored.entry))
            await asyncio.to_thread(
                self._faq_store.update,
                entry,
                actor=self._actor(request),
                expected_version=_int(form.get("version")),
            )
        except FaqStoreError as exc:
            context = {"form": {**form, "id": faq_id}, "stored": stored, "refused": str(exc)}
            return self._render(request, "edit.html", context, 400)
        await self._publish()
        return RedirectResponse(f"/admin/entries/{quote(faq_id)}?saved=1", status_code=303)

    async def retire(self, request: Request) -> Response:
        """Take an entry out of service."""
        return await self._retire_or_restore(request, retire=True)

    async def restore(self, request: Request) -> Response:
        """Put a retired entry back in service."""
        return await self._retire_or_restore(request, retire=False)

    async def _retire_or_restore(self, request: Request, *, retire: bool) -> Response:
        faq_id = request.path_params["faq_id"]
        actor = self._actor(request)
        try:
            if retire:
                version = _int(request.state.form.get("version"))
                await asyncio.to_thread(
                    self._faq_store.retire, faq_id, actor=actor, expected_version=version
                )
            else:
                await asyncio.to_thread(self._faq_store.restore, faq_id, actor=actor)
        except UnknownEntry:
            return self._render(request, "message.html", {"message": "not_found"}, 404)
        except FaqStoreError as exc:
            return self._render(request, "message.html", {"error": str(exc)}, 409)
        await self._publish()
        return RedirectResponse(f"/admin/entries/{quote(faq_id)}?saved=1", status_code=303)

    # -- preview, unanswered, audit -------------------------------------------

    async def preview(self, request: Request) -> Response:
        """What the bot would answer to a question: the decision and top matches."""
        question = request.query_params.get("q", "").strip()[:1000]
        lang = request.query_params.get("lang", "en")
        lang = lang if lang in LANGUAGES else DEFAULT_LANG
        context: dict[str, Any] = {"q": question, "lang": lang, "decision": None, "matches": []}
        if question:
            index = self._faq.index  # one index for both calls, even if a swap happens
            context["decision"] = await asyncio.to_thread(index.decide, question, lang)
            context["matches"] = await asyncio.to_thread(index.search, question, lang, 5)
        return self._render(request, "preview.html", context)

    async def add_paraphrase(self, request: Request) -> Response:
        """Add an unanswered question as a paraphrase of an existing entry, in one step."""
        form = request.state.form
        faq_id, text = form.get("entry_id", ""), " ".join(form.get("text", "").split())
        lang = form.get("lang", "en") if form.get("lang") in LANGUAGES else DEFAULT_LANG
        stored = await asyncio.to_thread(self._faq_store.get, faq_id)
        if stored is None or stored.retired or not text:
            return self._render(request, "message.html", {"message": "not_found"}, 404)
        entry = stored.entry
        raw = entry_to_form(entry)
        lines = raw[f"paraphrases_{lang}"].splitlines()
        if text not in lines:
            raw[f"paraphrases_{lang}"] = "\n".join([*lines, text])
        try:
            changed = validate_edit(form_to_dict(raw, base=entry))
            await asyncio.to_thread(
                self._faq_store.update,
                changed,
                actor=self._actor(request),
                expected_version=stored.version,
            )
        except FaqStoreError as exc:
            return self._render(request, "message.html", {"error": str(exc)}, 400)
        await self._publish()
        return RedirectResponse(f"/admin/entries/{quote(faq_id)}?saved=1", status_code=303)

    async def audit(self, request: Request) -> Response:
        """Every change, newest first: who, when, what, before and after."""
        entry_id = request.query_params.get("entry") or None
        records = await asyncio.to_thread(self._faq_store.audit, entry_id=entry_id)
        return self._render(request, "audit.html", {"records": records, "entry": entry_id})


def client_address(request: Request) -> str:
    """The address sign-in failures are counted against."""
    return request.client.host if request.client else "unknown"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
