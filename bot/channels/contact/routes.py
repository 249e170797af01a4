"""``POST /api/subscribe`` (JSON), ``POST /api/subscribe/confirm`` (SMS code),
``GET /api/subscribe/options`` (the channels that are on and the status page's
components, for the widget's inline form), and the pages.

The API answers other websites' pages the chat widget is allowed on (the same
origin policy and CORS headers as the chat API), and its refusals are in the
request's language (``lang``), with the same ``code`` in every language.

Pages: ``/subscribe`` (the hosted form, en/es), ``/subscribe/confirm?t=...``
(GET shows a button, POST confirms: mail scanners that open links confirm
nothing), ``/subscribe/unsubscribe?t=...`` (GET shows a button; POST
unsubscribes, which is also RFC 8058's one-click ``List-Unsubscribe=One-Click``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.contact.service import ContactError, ContactService
from bot.channels.web_guard import OriginPolicy, RateLimiter, cross_origin
from bot.core.languages import LANGUAGES
from bot.http import HttpError, read_body, read_json
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)

_PAGES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_MAX_BODY = 8_192


def _lang(request: Request, given: object = None) -> str:
    if isinstance(given, str) and given in LANGUAGES:
        return given
    query = request.query_params.get("lang", "")
    if query in LANGUAGES:
        return query
    accept = request.headers.get("accept-language", "").lower()
    return "es" if accept.startswith("es") else "en"


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _form(request: Request) -> dict[str, str]:
    raw = await read_body(request, max_bytes=_MAX_BODY)
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise HttpError(400, "the form is not UTF-8") from None


Handler = Callable[[Request], Awaitable[Response]]


def contact_routes(
    *,
    contacts: ContactService,
    templates: TemplateStore,
    rate_per_ip: int,
    origins: OriginPolicy | None = None,
) -> list[BaseRoute]:
    """The subscription API and pages around ``contacts``."""
    per_ip = RateLimiter(rate_per_ip)
    origins = origins or OriginPolicy()

    def refusal(exc: ContactError, lang: str, kind: str = "") -> HttpError:
        """``exc`` as the API's answer, its message in ``lang`` (English keeps the details)."""
        key = f"contact.error.{exc.code}"
        if kind and templates.has(f"{key}_{kind}"):
            key = f"{key}_{kind}"
        if lang == "en" or not templates.has(key):
            return HttpError(exc.status, str(exc), code=exc.code)
        return HttpError(exc.status, templates.render(key, lang), code=exc.code)

    def texts(lang: str) -> dict[str, str]:
        prefix = "contact.page."
        return {
            key[len(prefix) :]: templates.render(key, lang)
            for key in templates.keys()  # noqa: SIM118 - TemplateStore is no mapping
            if key.startswith(prefix)
        }

    def page(name: str, lang: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = _PAGES.get_template(name).render(
            lang=lang,
            t=texts(lang),
            org=templates.render("contact.org", lang),
            color=templates.render("contact.color", lang).strip(),
            channels=sorted(contacts.channels),
            **values,
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def limit_ip(request: Request, lang: str = "en") -> None:
        wait = per_ip.take(_client_ip(request))
        if wait:
            seconds = max(1, int(wait + 0.999))
            message = f"too many subscribe requests: please wait {seconds} s and try again"
            if lang != "en" and templates.has("contact.error.ip_limit"):
                message = templates.render("contact.error.ip_limit", lang, seconds=seconds)
            raise HttpError(
                429,
                message,
                headers={"Retry-After": str(seconds)},
                code="ip_limit",
                retry_after=seconds,
            )

    async def api_options(request: Request) -> Response:
        return JSONResponse(
            {"channels": sorted(contacts.channels), "components": contacts.component_names()},
            headers={"Cache-Control": "no-store"},
        )

    async def api_subscribe(request: Request) -> Response:
        lang_asked = _lang(request)
        limit_ip(request, lang_asked)
        body = await read_json(request, max_bytes=_MAX_BODY)
        lang_asked = _lang(request, body.get("lang"))
        email, phone = body.get("email"), body.get("phone")
        if email is not None and not isinstance(email, str):
            raise HttpError(400, "email must be a string")
        if phone is not None and not isinstance(phone, str):
            raise HttpError(400, "phone must be a string")
        lang = body.get("lang", "en")
        components = body.get("components", [])
        try:
            done = contacts.request(email=email, phone=phone, lang=lang, components=components)
        except ContactError as exc:
            raise refusal(exc, lang_asked, "email" if email is not None else "phone") from None
        return JSONResponse(
            {
                "status": "confirmation_sent",
                "channel": done.channel,
                "expires_in": done.expires_in_s,
            },
            status_code=202,
        )

    async def api_confirm(request: Request) -> Response:
        limit_ip(request, _lang(request))
        body = await read_json(request, max_bytes=_MAX_BODY)
        lang_asked = _lang(request, body.get("lang"))
        phone, code = body.get("phone"), body.get("code")
        if not isinstance(phone, str) or not isinstance(code, str):
            raise HttpError(400, "give the phone number and the code, as strings")
        try:
            done = contacts.confirm_sms(phone, code)
        except ContactError as exc:
            raise refusal(exc, lang_asked, "phone") from None
        return JSONResponse({"status": "subscribed", "channel": done.channel})

    async def subscribe_page(request: Request) -> Response:
        return page("subscribe.html", _lang(request), components=contacts.component_names())

    async def confirm_page(request: Request) -> Response:
        lang = _lang(request)
        token = request.query_params.get("t", "")
        if request.method == "POST":
            form = await _form(request)
            token = form.get("t", token)
        try:
            contacts.links.read_confirm(token)  # forged or expired: say so before any button
            if request.method == "GET":
                return page("confirm.html", lang, token=token)
            done = contacts.confirm_email(token)
        except (ContactError, ValueError) as exc:
            code = getattr(exc, "code", "forged")
            return page(
                "message.html",
                lang,
                status=400,
                title=texts(lang)["link_problem"],
                text=texts(lang).get(f"error_{code}", str(exc)),
            )
        return page(
            "message.html",
            done.lang,
            title=texts(done.lang)["confirmed_title"],
            text=texts(done.lang)["confirmed_email"],
        )

    async def unsubscribe_page(request: Request) -> Response:
        lang = _lang(request)
        token = request.query_params.get("t", "")
        if request.method == "GET":
            try:
                contacts.links.read_unsubscribe(token)
            except ValueError:
                return page(
                    "message.html",
                    lang,
                    status=400,
                    title=texts(lang)["link_problem"],
                    text=texts(lang)["error_forged"],
                )
            return page("unsubscribe.html", lang, token=token)
        form = await _form(request)
        token = request.query_params.get("t") or form.get("t", "")
        one_click = form.get("List-Unsubscribe") == "One-Click"
        try:
            contacts.unsubscribe_token(token, how="one-click" if one_click else "unsubscribe page")
        except ContactError:
            if one_click:
                raise HttpError(400, "this unsubscribe link is not valid") from None
            return page(
                "message.html",
                lang,
                status=400,
                title=texts(lang)["link_problem"],
                text=texts(lang)["error_forged"],
            )
        if one_click:
            return JSONResponse({"status": "unsubscribed"})
        return page(
            "message.html",
            lang,
            title=texts(lang)["unsubscribed_title"],
            text=texts(lang)["unsubscribed"],
        )

    def guard(handler: Handler) -> Handler:
        return cross_origin(handler, origins, name="subscribe")

    return [
        Route(
            "/api/subscribe",
            guard(api_subscribe),
            methods=["POST", "OPTIONS"],
        ),
        Route(
            "/api/subscribe/confirm",
            guard(api_confirm),
            methods=["POST", "OPTIONS"],
        ),
        Route(
            "/api/subscribe/options",
            guard(api_options),
            methods=["GET", "OPTIONS"],
        ),
        Route("/subscribe", subscribe_page, methods=["GET"]),
        Route("/subscribe/confirm", confirm_page, methods=["GET", "POST"]),
        Route("/subscribe/unsubscribe", unsubscribe_page, methods=["GET", "POST"]),
    ]
